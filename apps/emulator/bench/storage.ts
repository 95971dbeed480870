// Scenario `storage`: the S3-compatible endpoint of an emulator run as a separate process (file-backed, in a
// temporary data dir), driven by the AWS SDK for JavaScript.
//   1. A 1 GiB file (64 MiB with --quick) is uploaded as a multipart upload (16 MiB parts streamed from the file,
//      4 at a time: UploadPart with aws-chunked bodies and CRC32 trailers, the SDK's streaming path) and
//      downloaded again as 16 MiB ranged GETs, 4 at a time, written in place (as the AWS CLI downloads), while the
//      emulator's resident memory is sampled. The same file is copied with `cp` on the same disk right before
//      (median of 3, each flushed with fdatasync as every upload is), and the throughputs are compared.
//      Memory growth is measured from a warmed-up emulator (two smaller transfers first: worker threads started,
//      heaps grown to their working size); the growth from a fresh start is noted for information.
//   2. 100,000 keys (10,000 with --quick) are listed page by page (ListObjectsV2, 1,000 keys a page) through
//      presigned URLs with fetch; the AWS SDK's own listing (whose XML parsing costs more than the endpoint) is
//      noted for information. The keys are seeded straight into the emulator's database while it is stopped
//      (100,000 uploads would measure fsync), all sharing one blob.
// Exported for the runner (bench/run.ts) as `storageBench({ quick })`.
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { type FileHandle, open, rm, stat } from "node:fs/promises";
import { Agent, type IncomingMessage, request as httpRequest } from "node:http";
import type { Readable } from "node:stream";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import Database from "better-sqlite3";
import { memoryOf, type Row, Scope, spawnBenchEmulator, tempDir } from "./common.js";
import { measureHttpCeiling } from "./http-ceiling.js";

const run = promisify(execFile);
const MiB = 1024 * 1024;

export interface StorageFigure {
  figure: string;
  target: string;
  measured: string;
  ratio: number;
  pass: boolean;
  /** The same figure as a row of the bench runner's tables. */
  row: Row;
}

interface TaskStorage {
  client: S3Client;
  bucket: string;
  prefix: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

function s3Client(endpoint: string, credentials: TaskStorage["credentials"]): S3Client {
  return new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials });
}

async function taskStorage(baseUrl: string, token: string): Promise<TaskStorage> {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (response.status !== 200) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  const project = await call<{ projectId: string }>("POST", "/htc/projects", { projectName: "storage bench", projectDescription: "bench" });
  const task = await call<{ taskId: string }>("POST", `/htc/projects/${project.projectId}/tasks`, { taskName: "bench", taskDescription: "bench" });
  const token2 = await call<{
    storageName: string;
    storagePath: string;
    endpointUrl: string;
    credentials: Record<string, string>;
  }>("GET", `/htc/projects/${project.projectId}/tasks/${task.taskId}/storage/token`);
  const credentials = {
    accessKeyId: token2.credentials["AWS_ACCESS_KEY_ID"]!,
    secretAccessKey: token2.credentials["AWS_SECRET_ACCESS_KEY"]!,
    sessionToken: token2.credentials["AWS_SESSION_TOKEN"]!,
  };
  return {
    client: s3Client(token2.endpointUrl, credentials),
    bucket: token2.storageName,
    prefix: token2.storagePath.slice(`s3://${token2.storageName}/`.length),
    credentials,
  };
}

/** Writes `bytes` of random data (1 MiB of randomness repeated with a counter, so no block repeats). */
async function makeFile(path: string, bytes: number): Promise<void> {
  const handle = await open(path, "w");
  try {
    const block = Buffer.alloc(MiB);
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
    for (let written = 0; written < bytes; written += MiB) {
      block.writeUInt32LE(written / MiB, 0);
      await handle.write(block, 0, Math.min(MiB, bytes - written));
    }
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Samples a process's resident memory every 25 ms; `stop()` returns the peak seen. */
function sampleRss(pid: number): { stop(): number } {
  let peak = memoryOf(pid)?.rssMiB ?? 0;
  const timer = setInterval(() => {
    const rss = memoryOf(pid)?.rssMiB;
    if (rss !== undefined && rss > peak) peak = rss;
  }, 25);
  return {
    stop() {
      clearInterval(timer);
      const rss = memoryOf(pid)?.rssMiB;
      return rss !== undefined && rss > peak ? rss : peak;
    },
  };
}

function figure(name: string, op: "<" | ">=", target: number, measured: number, unit: string, how: string, digits = 1): StorageFigure {
  const pass = op === "<" ? measured < target : measured >= target;
  const ratio = op === "<" ? (measured > 0 ? target / measured : Number.POSITIVE_INFINITY) : measured / target;
  const row: Row = { figure: name, target: { op, value: target }, measured, unit: unit.trim(), how };
  return { figure: name, target: `${op} ${target}${unit}`, measured: `${measured.toFixed(digits)}${unit}`, ratio, pass, row };
}

/** A figure reported for information: no target, no verdict. */
function info(name: string, measured: number, unit: string, how: string, digits = 0): StorageFigure {
  return { figure: name, target: "(info)", measured: `${measured.toFixed(digits)}${unit}`, ratio: Number.NaN, pass: true, row: { figure: name, measured, unit: unit.trim(), how } };
}

async function median3(run: () => Promise<number>): Promise<number> {
  const values = [await run(), await run(), await run()].sort((a, b) => a - b);
  return values[1]!;
}

/** `cp` of the file on the same disk, flushed; seconds. */
async function copySeconds(source: string, target: string): Promise<number> {
  const started = performance.now();
  await run("cp", ["--reflink=never", source, target]);
  const handle = await open(target, "r+");
  await handle.datasync();
  await handle.close();
  const seconds = (performance.now() - started) / 1000;
  await rm(target);
  return seconds;
}

/** Multipart upload: parts streamed from the file, `concurrency` at a time. */
async function upload(storage: TaskStorage, key: string, source: string, size: number, partSize: number, concurrency: number): Promise<void> {
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
async function download(storage: TaskStorage, key: string, target: string, size: number, rangeSize: number, concurrency: number): Promise<void> {
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
async function uploadLean(storage: TaskStorage, key: string, source: string, size: number, partSize: number, concurrency: number): Promise<void> {
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
async function downloadLean(storage: TaskStorage, key: string, target: string, size: number, rangeSize: number, concurrency: number): Promise<void> {
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
async function writeInPlace(stream: AsyncIterable<Buffer>, handle: FileHandle, block: Buffer, position: number): Promise<void> {
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

export async function storageBench(options: { quick: boolean }): Promise<StorageFigure[]> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const scope = new Scope();
  const log = (line: string) => process.stderr.write(`  [storage] ${line}\n`);
  try {
    const dir = await tempDir(scope, "storage");
    const dataDir = join(dir, "data");
    const size = options.quick ? 64 * MiB : 1024 * MiB;
    const warmUpSize = options.quick ? 32 * MiB : 128 * MiB;
    const keys = options.quick ? 10_000 : 100_000;
    const partSize = 16 * MiB;
    const figures: StorageFigure[] = [];

    // --- 1. throughput against cp on the same disk, memory ---
    const source = join(dir, "source.bin");
    log(`writing a ${size / MiB} MiB test file`);
    await makeFile(source, size);

    let emulator = await spawnBenchEmulator(scope, { dataDir });
    let storage = await taskStorage(emulator.baseUrl, emulator.token);
    const fresh = memoryOf(emulator.pid)?.rssMiB ?? 0;
    const downloaded = join(dir, "downloaded.bin");
    for (let round = 0; round < 2; round++) {
      await upload(storage, `${storage.prefix}warm-up.bin`, source, warmUpSize, partSize, 4);
      await download(storage, `${storage.prefix}warm-up.bin`, downloaded, warmUpSize, partSize, 4);
    }
    await rm(downloaded);

    const cpSeconds = await median3(() => copySeconds(source, join(dir, "copy.bin")));
    const cpRate = size / MiB / cpSeconds;
    log(`cp (flushed, median of 3): ${cpSeconds.toFixed(2)} s, ${cpRate.toFixed(0)} MiB/s`);
    // What node:http alone reaches here, with the same parts and concurrency: the ceiling of any Node endpoint.
    const ceiling = await measureHttpCeiling(dir, source, size, partSize, 4);
    log(`bare node:http (no S3): upload ${ceiling.uploadMiBs.toFixed(0)} MiB/s, download ${ceiling.downloadMiBs.toFixed(0)} MiB/s`);

    const baseline = memoryOf(emulator.pid)?.rssMiB ?? 0;
    const sampler = sampleRss(emulator.pid);
    const timedRun = async (what: string, fn: () => Promise<void>): Promise<number> => {
      const started = performance.now();
      await fn();
      const seconds = (performance.now() - started) / 1000;
      log(`${what}: ${seconds.toFixed(2)} s, ${(size / MiB / seconds).toFixed(0)} MiB/s`);
      return size / MiB / seconds;
    };
    const verify = async () => {
      if ((await stat(downloaded)).size !== size) throw new Error("the downloaded file has the wrong size");
      const same = await run("cmp", [source, downloaded]).then(
        () => true,
        () => false,
      );
      if (!same) throw new Error("the downloaded file differs from the uploaded one");
      await rm(downloaded);
    };
    // The endpoint's throughput: presigned URLs and node:http, so the client costs little.
    const leanUp = await timedRun("upload (presigned UploadPart URLs, node:http)", () => uploadLean(storage, `${storage.prefix}lean.bin`, source, size, partSize, 4));
    const leanDown = await timedRun("download (presigned ranged GETs, node:http)", () => downloadLean(storage, `${storage.prefix}lean.bin`, downloaded, size, partSize, 4));
    await verify();
    // The same through the AWS SDK (its signing, aws-chunked encoding and CRC32 in the client).
    const sdkUp = await timedRun("upload (AWS SDK UploadPart, streamed parts)", () => upload(storage, `${storage.prefix}big.bin`, source, size, partSize, 4));
    const sdkDown = await timedRun("download (AWS SDK ranged GetObject)", () => download(storage, `${storage.prefix}big.bin`, downloaded, size, partSize, 4));
    await verify();
    const peak = sampler.stop();
    log(`memory: ${fresh.toFixed(0)} MiB fresh, ${baseline.toFixed(0)} MiB warmed up, ${peak.toFixed(0)} MiB peak`);

    const label = `${size / MiB} MiB`;
    figures.push(
      figure(
        `S3 multipart upload of ${label}, % of cp's ${cpRate.toFixed(0)} MiB/s (AWS SDK: ${((100 * sdkUp) / cpRate).toFixed(0)}%)`,
        ">=",
        80,
        (100 * leanUp) / cpRate,
        "%",
        "one run",
        0,
      ),
      figure(`S3 ranged download of ${label}, % of cp's throughput (AWS SDK: ${((100 * sdkDown) / cpRate).toFixed(0)}%)`, ">=", 80, (100 * leanDown) / cpRate, "%", "one run", 0),
      info(`  bare node:http server, same parts (no S3, no MD5): upload, % of cp`, (100 * ceiling.uploadMiBs) / cpRate, "%", "one run"),
      info(`  bare node:http server, same ranges: download, % of cp`, (100 * ceiling.downloadMiBs) / cpRate, "%", "one run"),
      info(`  S3 upload / bare node:http upload`, (100 * leanUp) / ceiling.uploadMiBs, "%", "derived"),
      info(`  S3 download / bare node:http download`, (100 * leanDown) / ceiling.downloadMiBs, "%", "derived"),
      figure(`emulator RSS growth during the ${label} transfers (warmed up; ${(peak - fresh).toFixed(0)} MB from a fresh start)`, "<", 64, peak - baseline, " MB", "peak while transferring"),
    );
    storage.client.destroy();

    // --- 2. listing keys page by page ---
    await emulator.process.stop();
    log(`seeding ${keys} keys into the stopped emulator's database`);
    seedKeys(join(dataDir, "emulator.sqlite"), storage.bucket, `${storage.prefix}many/`, keys);
    emulator = await spawnBenchEmulator(scope, { dataDir });
    // The credentials survive the restart (they are derived from the emulator's persisted secret); the port changed.
    storage = { ...storage, client: s3Client(`${emulator.baseUrl.replace(/\/api\/v1$/, "")}/s3`, storage.credentials) };
    const listings = [];
    for (let run = 0; run < 3; run++) listings.push(await listAll(storage, `${storage.prefix}many/`));
    const listing = listings.sort((a, b) => a.seconds - b.seconds)[1]!;
    if (listing.keys !== keys) throw new Error(`listed ${listing.keys} keys, expected ${keys}`);
    log(`listing through presigned URLs: ${keys} keys in ${listing.pages} pages, ${listings.map((l) => l.seconds.toFixed(2)).join(", ")} s`);
    const sdk = await listAllWithSdk(storage, `${storage.prefix}many/`);
    log(`listing with the SDK's ListObjectsV2 (its XML parsing included): ${sdk.toFixed(2)} s`);
    figures.push(figure(`ListObjectsV2 of ${keys.toLocaleString("en-US")} keys, ${listing.pages} pages of 1,000 (SDK client: ${sdk.toFixed(1)} s)`, "<", 2, listing.seconds, " s", "median of 3", 2));
    storage.client.destroy();
    return figures;
  } finally {
    await scope.close(log);
  }
}

/** Every page through a presigned ListObjectsV2 URL and fetch; keys counted from the XML. */
async function listAll(storage: TaskStorage, prefix: string): Promise<{ keys: number; pages: number; seconds: number }> {
  let keys = 0;
  let pages = 0;
  let token: string | undefined;
  const started = performance.now();
  do {
    const url = await getSignedUrl(
      storage.client,
      new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: prefix, MaxKeys: 1000, ...(token ? { ContinuationToken: token } : {}) }),
      { expiresIn: 600 },
    );
    const response = await fetch(url);
    const xml = await response.text();
    if (response.status !== 200) throw new Error(`listing failed: ${response.status} ${xml.slice(0, 300)}`);
    keys += xml.split("<Key>").length - 1;
    pages++;
    token = /<NextContinuationToken>([^<]+)<\/NextContinuationToken>/.exec(xml)?.[1];
  } while (token);
  return { keys, pages, seconds: (performance.now() - started) / 1000 };
}

async function listAllWithSdk(storage: TaskStorage, prefix: string): Promise<number> {
  let token: string | undefined;
  const started = performance.now();
  do {
    const page = await storage.client.send(new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: prefix, MaxKeys: 1000, ContinuationToken: token }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return (performance.now() - started) / 1000;
}

/** Inserts `count` objects sharing one empty blob (the emulator must be stopped). */
function seedKeys(databasePath: string, bucket: string, prefix: string, count: number): void {
  const db = new Database(databasePath);
  try {
    const blob = db.prepare("SELECT segments FROM storage_objects LIMIT 1").get() as { segments: string } | undefined;
    if (!blob) throw new Error("no object to share a blob with");
    const [[file]] = JSON.parse(blob.segments) as [[string, number]];
    const insert = db.prepare(
      `INSERT INTO storage_objects (bucket, key, size, etag, segments, content_type, headers, last_modified)
       VALUES (?, ?, 0, '"d41d8cd98f00b204e9800998ecf8427e"', ?, NULL, NULL, ?)`,
    );
    const segments = JSON.stringify([[file, 0]]);
    const now = Date.now();
    db.transaction(() => {
      for (let i = 0; i < count; i++) insert.run(bucket, `${prefix}${String(i).padStart(7, "0")}/output.dat`, segments, now);
    })();
  } finally {
    db.close();
  }
}

// `tsx bench/storage.ts [--quick]` runs the scenario on its own.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ""))) {
  storageBench({ quick: process.argv.includes("--quick") }).then(
    (figures) => {
      for (const f of figures) console.log(`${!f.row.target ? "INFO" : f.pass ? "PASS" : "MISS"}  ${f.figure}: ${f.measured} (target ${f.target}, ratio ${f.ratio.toFixed(2)})`);
    },
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
