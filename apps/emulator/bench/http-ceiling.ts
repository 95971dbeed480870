// What Node's HTTP stack alone achieves on this machine, measured next to the S3 endpoint so its figures can be
// read against the platform and not only against `cp`: a bare node:http server in its own process (as the emulator
// is) that writes each PUT body into a file and flushes it, and serves ranged GETs of a file, with nothing else
// (no signature check, no MD5 for the ETag, no database). The client side is the same node:http code the storage
// scenario uses, 16 MiB parts, 4 at a time.
import { type ChildProcess, spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { open, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { join } from "node:path";

// The server, run with `node -e`: PUT /<n> stores a part in <dir>/part-<n> (flushed), GET streams a byte range of
// the file named by argv[2]. It prints its port once it listens.
const SERVER = `
const { createServer } = require("node:http");
const { createWriteStream, createReadStream, statSync } = require("node:fs");
const { join } = require("node:path");
const [dir, file] = process.argv.slice(1);
createServer((req, res) => {
  if (req.method === "PUT") {
    const out = createWriteStream(join(dir, "part-" + req.url.slice(1)), { flush: true });
    req.pipe(out);
    out.on("close", () => res.end("ok"));
    out.on("error", (e) => { res.statusCode = 500; res.end(String(e)); });
    return;
  }
  const m = /bytes=(\\d+)-(\\d+)/.exec(req.headers.range || "");
  const size = statSync(file).size;
  const start = m ? Number(m[1]) : 0, end = m ? Number(m[2]) : size - 1;
  res.writeHead(m ? 206 : 200, { "content-length": end - start + 1 });
  createReadStream(file, { start, end, highWaterMark: 1 << 20 }).pipe(res);
}).listen(0, "127.0.0.1", function () { console.log(this.address().port); });
`;

export interface Ceiling {
  uploadMiBs: number;
  downloadMiBs: number;
}

/** Uploads `source` in parts to a bare server and downloads it back by ranges; MiB/s of each (one run each). */
export async function measureHttpCeiling(
  dir: string,
  source: string,
  size: number,
  partSize: number,
  concurrency: number,
): Promise<Ceiling> {
  const server = spawn(process.execPath, ["-e", SERVER, dir, source], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const port = await firstLine(server);
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const count = Math.ceil(size / partSize);
    const parallel = async (each: (index: number, start: number, end: number) => Promise<void>): Promise<number> => {
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < count) {
            const index = next++;
            const start = index * partSize;
            await each(index, start, Math.min(size, start + partSize) - 1);
          }
        }),
      );
      return size / 1024 / 1024 / ((performance.now() - started) / 1000);
    };
    const uploadMiBs = await parallel(
      (index, start, end) =>
        new Promise((resolve, reject) => {
          const req = request(
            { host: "127.0.0.1", port, method: "PUT", path: `/${index}`, agent, headers: { "content-length": end - start + 1 } },
            (res) => {
              res.resume();
              res.once("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`ceiling PUT answered ${res.statusCode}`))));
            },
          );
          req.once("error", reject);
          createReadStream(source, { start, end, highWaterMark: 1024 * 1024 }).pipe(req);
        }),
    );
    const target = join(dir, "ceiling-download.bin");
    const handle = await open(target, "w");
    let downloadMiBs: number;
    try {
      downloadMiBs = await parallel(
        (_index, start, end) =>
          new Promise((resolve, reject) => {
            const req = request(
              { host: "127.0.0.1", port, method: "GET", path: "/", agent, headers: { range: `bytes=${start}-${end}` } },
              (res) => {
                let at = start;
                let writing = Promise.resolve();
                res.on("data", (chunk: Buffer) => {
                  const position = at;
                  at += chunk.length;
                  writing = writing.then(() => handle.write(chunk, 0, chunk.length, position).then(() => {}));
                });
                res.once("end", () => writing.then(resolve, reject));
                res.once("error", reject);
              },
            );
            req.once("error", reject);
            req.end();
          }),
      );
      await handle.datasync();
    } finally {
      await handle.close();
    }
    agent.destroy();
    await rm(target, { force: true });
    for (let index = 0; index < count; index++) await rm(join(dir, `part-${index}`), { force: true });
    return { uploadMiBs, downloadMiBs };
  } finally {
    server.kill();
  }
}

function firstLine(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes("\n")) resolve(Number(text.trim()));
    });
    child.once("exit", (code) => reject(new Error(`ceiling server exited with ${code}`)));
  });
}
