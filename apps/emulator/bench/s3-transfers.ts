// The transfers the storage scenario times, shared by its parts: a multipart upload and ranged downloads through the
// AWS SDK, the same through presigned URLs and bare node:http (no SDK in the data path), and `cp` on the same disk.
// Every download is flushed (fdatasync) before the clock stops, as `cp`'s copy is.
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { type FileHandle, open, rm } from "node:fs/promises";
import { Agent, type IncomingMessage, request as httpRequest } from "node:http";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand, type S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

const run = promisify(execFile);
export const MiB = 1024 * 1024;

/** Where objects go: a client for the endpoint and the bucket. */
export interface S3Target {
  client: S3Client;
  bucket: string;
}

/** Flushes a file written by someone else (a CLI's download) to the disk. */
export async function flushFile(path: string): Promise<void> {
  const handle = await open(path, "r+");
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** `cp` of the file on the same disk, flushed; seconds. */
export async function copySeconds(source: string, target: string): Promise<number> {
  const started = performance.now();
  await run("cp", ["--reflink=never", source, target]);
  await flushFile(target);
  const seconds = (performance.now() - started) / 1000;
  await rm(target);
  return seconds;
}

/** Multipart upload: parts streamed from the file, `concurrency` at a time. */
export async function upload(storage: S3Target, key: string, source: string, size: number, partSize: number, concurrency: number): Promise<void> {
  const { UploadId } = await storage.client.send(new CreateMultipartUploadCommand({ Bucket: storage.bucket, Key: key }));
  const count = Math.ceil(size / partSize);
  const parts: { PartNumber: number; ETag: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const start = index * partSize;
        const end = Math.min(size, start + partSize) - 1;
        const result = await storage.client.send(
          new UploadPartCommand({
            Bucket: storage.bucket,
            Key: key,
            UploadId,
            PartNumber: index + 1,
            Body: createReadStream(source, { start, end, highWaterMark: MiB }),
            ContentLength: end - start + 1,
          }),
        );
        parts[index] = { PartNumber: index + 1, ETag: result.ETag! };
      }
    }),
  );
  await storage.client.send(new CompleteMultipartUploadCommand({ Bucket: storage.bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
}

/** Ranged GETs of `rangeSize`, `concurrency` at a time, each written in place in 4 MiB blocks; then flushed. */
export async function download(storage: S3Target, key: string, target: string, size: number, rangeSize: number, concurrency: number): Promise<void> {
  const handle = await open(target, "w");
  try {
    const count = Math.ceil(size / rangeSize);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        const block = Buffer.allocUnsafe(4 * MiB);
        while (next < count) {
          const index = next++;
          const start = index * rangeSize;
          const end = Math.min(size, start + rangeSize) - 1;
          const object = await storage.client.send(new GetObjectCommand({ Bucket: storage.bucket, Key: key, Range: `bytes=${start}-${end}` }));
          await writeInPlace(object.Body as AsyncIterable<Buffer>, handle, block, start);
        }
      }),
    );
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** One HTTP exchange with node:http: `body` streams in (or nothing), the answer goes to `sink`. */
function exchange(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Readable | undefined,
  sink: (response: IncomingMessage) => Promise<void>,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method, headers, agent }, (res) => {
      sink(res).then(() => resolve(res), reject);
    });
    req.on("error", reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

/** The same multipart upload through presigned part URLs and node:http (no SDK in the data path). */
export async function uploadLean(storage: S3Target, key: string, source: string, size: number, partSize: number, concurrency: number): Promise<void> {
  const { UploadId } = await storage.client.send(new CreateMultipartUploadCommand({ Bucket: storage.bucket, Key: key }));
  const count = Math.ceil(size / partSize);
  const parts: { PartNumber: number; ETag: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const start = index * partSize;
        const end = Math.min(size, start + partSize) - 1;
        const url = await getSignedUrl(storage.client, new UploadPartCommand({ Bucket: storage.bucket, Key: key, UploadId, PartNumber: index + 1 }), {
          expiresIn: 600,
        });
        let etag = "";
        const body = createReadStream(source, { start, end, highWaterMark: MiB });
        const res = await exchange(url, "PUT", { "content-length": String(end - start + 1) }, body, async (r) => {
          etag = String(r.headers.etag ?? "");
          for await (const _ of r) {
            // drain
          }
        });
        if (res.statusCode !== 200) throw new Error(`UploadPart answered ${res.statusCode}`);
        parts[index] = { PartNumber: index + 1, ETag: etag };
      }
    }),
  );
  await storage.client.send(new CompleteMultipartUploadCommand({ Bucket: storage.bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
}

/** The same ranged download through a presigned GET URL and node:http. */
export async function downloadLean(storage: S3Target, key: string, target: string, size: number, rangeSize: number, concurrency: number): Promise<void> {
  const url = await getSignedUrl(storage.client, new GetObjectCommand({ Bucket: storage.bucket, Key: key }), { expiresIn: 600 });
  const handle = await open(target, "w");
  try {
    const count = Math.ceil(size / rangeSize);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        const block = Buffer.allocUnsafe(4 * MiB);
        while (next < count) {
          const index = next++;
          const start = index * rangeSize;
          const end = Math.min(size, start + rangeSize) - 1;
          await exchange(url, "GET", { range: `bytes=${start}-${end}` }, undefined, async (res) => {
            if (res.statusCode !== 206) throw new Error(`ranged GET answered ${res.statusCode}`);
            await writeInPlace(res, handle, block, start);
          });
        }
      }),
    );
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Copies a stream into the file at `position`, in blocks the size of `block`. */
export async function writeInPlace(stream: AsyncIterable<Buffer>, handle: FileHandle, block: Buffer, position: number): Promise<void> {
  let filled = 0;
  let at = position;
  for await (const chunk of stream) {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, block.length - filled);
      chunk.copy(block, filled, offset, offset + take);
      filled += take;
      offset += take;
      if (filled === block.length) {
        await handle.write(block, 0, filled, at);
        at += filled;
        filled = 0;
      }
    }
  }
  if (filled > 0) await handle.write(block, 0, filled, at);
}
