// The transfers the storage scenario times, shared by its parts: a multipart upload and ranged downloads through the
// AWS SDK, the same through presigned URLs and bare node:http (no SDK in the data path), and `cp` on the same disk.
// Every download is flushed (fdatasync) before the clock stops, as `cp`'s copy is.
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { type FileHandle, open, rm } from "node:fs/promises";
import { Agent, type IncomingMessage, request as httpRequest } from "node:http";
import type { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import { promisify } from "node:util";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
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

/** Writes every dirty page of the machine to disk (`sync`), so the next transfer starts from a quiet disk. */
export async function settleDisk(): Promise<void> {
  await run("sync");
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

/** A piece of the file: its index and its first and last byte. */
type Piece = { index: number; start: number; end: number };

/** `size` bytes cut into pieces of `pieceSize`, handed to `concurrency` workers in order until none is left. */
async function inPieces(
  size: number,
  pieceSize: number,
  concurrency: number,
  each: (piece: Piece, worker: number) => Promise<void>,
): Promise<void> {
  const count = Math.ceil(size / pieceSize);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < count) {
        const index = next++;
        const start = index * pieceSize;
        await each({ index, start, end: Math.min(size, start + pieceSize) - 1 }, worker);
      }
    }),
  );
}

/** A multipart upload whose parts `sendPart` sends (answering each part's ETag), `concurrency` at a time. */
async function multipart(
  storage: S3Target,
  key: string,
  size: number,
  partSize: number,
  concurrency: number,
  sendPart: (uploadId: string, piece: Piece) => Promise<string>,
) {
  const { UploadId } = await storage.client.send(new CreateMultipartUploadCommand({ Bucket: storage.bucket, Key: key }));
  const parts: { PartNumber: number; ETag: string }[] = [];
  await inPieces(size, partSize, concurrency, async (piece) => {
    parts[piece.index] = { PartNumber: piece.index + 1, ETag: await sendPart(UploadId!, piece) };
  });
  await storage.client.send(
    new CompleteMultipartUploadCommand({ Bucket: storage.bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
  );
}

/** Ranged reads into `target`, written in place in 4 MiB blocks (one per worker), `concurrency` at a time; then flushed. */
async function inPlace(
  target: string,
  size: number,
  rangeSize: number,
  concurrency: number,
  fetchRange: (piece: Piece) => Promise<AsyncIterable<Buffer>>,
): Promise<void> {
  const handle = await open(target, "w");
  try {
    const blocks = Array.from({ length: concurrency }, () => Buffer.allocUnsafe(4 * MiB));
    await inPieces(size, rangeSize, concurrency, async (piece, worker) => {
      await writeInPlace(await fetchRange(piece), handle, blocks[worker]!, piece.start);
    });
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Multipart upload through the SDK: parts streamed from the file (UploadPart), `concurrency` at a time. */
export function upload(storage: S3Target, key: string, source: string, size: number, partSize: number, concurrency: number): Promise<void> {
  return multipart(storage, key, size, partSize, concurrency, async (UploadId, { index, start, end }) => {
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
    return result.ETag!;
  });
}

/** Ranged GetObjects of `rangeSize` through the SDK, `concurrency` at a time, written in place; then flushed. */
export function download(
  storage: S3Target,
  key: string,
  target: string,
  size: number,
  rangeSize: number,
  concurrency: number,
): Promise<void> {
  return inPlace(target, size, rangeSize, concurrency, async ({ start, end }) => {
    const object = await storage.client.send(new GetObjectCommand({ Bucket: storage.bucket, Key: key, Range: `bytes=${start}-${end}` }));
    return object.Body as AsyncIterable<Buffer>;
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** One HTTP exchange with node:http: `body` streams in (or nothing); resolves with the answer, not yet read. */
function exchange(url: string, method: string, headers: Record<string, string>, body: Readable | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method, headers, agent }, resolve);
    req.on("error", reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

/** The same multipart upload through presigned part URLs and node:http (no SDK in the data path). */
export function uploadLean(
  storage: S3Target,
  key: string,
  source: string,
  size: number,
  partSize: number,
  concurrency: number,
): Promise<void> {
  return multipart(storage, key, size, partSize, concurrency, async (UploadId, { index, start, end }) => {
    const url = await getSignedUrl(
      storage.client,
      new UploadPartCommand({ Bucket: storage.bucket, Key: key, UploadId, PartNumber: index + 1 }),
      { expiresIn: 600 },
    );
    const body = createReadStream(source, { start, end, highWaterMark: MiB });
    const res = await exchange(url, "PUT", { "content-length": String(end - start + 1) }, body);
    res.resume();
    await finished(res);
    if (res.statusCode !== 200) throw new Error(`UploadPart answered ${res.statusCode}`);
    return String(res.headers.etag ?? "");
  });
}

/** The same ranged download through a presigned GET URL and node:http. */
export async function downloadLean(
  storage: S3Target,
  key: string,
  target: string,
  size: number,
  rangeSize: number,
  concurrency: number,
): Promise<void> {
  const url = await getSignedUrl(storage.client, new GetObjectCommand({ Bucket: storage.bucket, Key: key }), { expiresIn: 600 });
  await inPlace(target, size, rangeSize, concurrency, async ({ start, end }) => {
    const res = await exchange(url, "GET", { range: `bytes=${start}-${end}` }, undefined);
    if (res.statusCode !== 206) {
      res.resume();
      throw new Error(`ranged GET answered ${res.statusCode}`);
    }
    return res;
  });
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
