// A bare node:http server speaking just enough S3 for the aws CLI and the SDK to upload and download one file:
// the ceiling of a client on this machine. It does what the bare node:http ceiling does (each PUT body written to
// a file and flushed, then removed; GETs stream a byte range of a file) and nothing an S3 server must add: no
// signature check, no hashing (its ETags are fixed), no metadata. Multipart uploads are acknowledged with fixed
// XML; every object reads as the file the bench uploads (`<source>`), so a download brings back the same bytes.
//   node --import tsx bench/ceilings/bare-s3.ts <port> <dir for uploaded parts> <source file>
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { createServer, type ServerResponse } from "node:http";
import { join } from "node:path";

const [port, dir, source] = process.argv.slice(2);
if (!port || !dir || !source) throw new Error("usage: bare-s3.ts <port> <dir> <source>");
const size = statSync(source).size;
const ETAG = '"0123456789abcdef0123456789abcdef"';
let next = 0;

function xml(res: ServerResponse, body: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
  res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  if (req.method === "POST") {
    req.resume();
    req.once("end", () =>
      url.searchParams.has("uploads")
        ? xml(res, "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId></InitiateMultipartUploadResult>")
        : xml(res, `<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>${ETAG}</ETag></CompleteMultipartUploadResult>`),
    );
    return;
  }
  if (req.method === "PUT") {
    const file = join(dir, `part-${next++}`);
    const out = createWriteStream(file, { flush: true });
    req.pipe(out);
    out.once("close", () => {
      res.writeHead(200, { etag: ETAG, "content-length": 0 }).end();
      void unlink(file).catch(() => {}); // flushed: that was the work; the disk need not fill up
    });
    out.once("error", (error) => res.writeHead(500).end(String(error)));
    return;
  }
  if (req.method === "DELETE") return void res.writeHead(204).end();
  if (url.pathname === "/")
    return xml(res, "<ListAllMyBucketsResult><Buckets><Bucket><Name>b</Name></Bucket></Buckets></ListAllMyBucketsResult>");
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  const start = range ? Number(range[1]) : 0;
  const end = range?.[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
  const headers: Record<string, string | number> = {
    "content-length": end - start + 1,
    "content-type": "binary/octet-stream",
    "accept-ranges": "bytes",
    "last-modified": new Date(0).toUTCString(),
    etag: ETAG,
  };
  if (range) headers["content-range"] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === "HEAD") return void res.end();
  createReadStream(source, { start, end, highWaterMark: 1024 * 1024 }).pipe(res);
}).listen(Number(port), "127.0.0.1");
