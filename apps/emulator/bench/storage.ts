// Scenario `storage`: the S3-compatible endpoint of an emulator run as a separate process (file-backed, in a
// temporary data dir), driven by the AWS SDK for JavaScript.
//   1. A 1 GiB file (32 MiB with --quick) is uploaded as a multipart upload (16 MiB parts streamed from the file,
//      4 at a time: UploadPart with aws-chunked bodies and CRC32 trailers, the SDK's streaming path) and
//      downloaded again as 16 MiB ranged GETs, 4 at a time, written in place (as the AWS CLI downloads), while the
//      emulator's resident memory is sampled. The same file is copied with `cp` on the same disk right before
//      (median of 3, each flushed with fdatasync as every upload is), and the throughputs are compared.
//      Memory growth is measured from a warmed-up emulator (two smaller transfers first: worker threads started,
//      heaps grown to their working size); the growth from a fresh start is noted for information.
//   2. The same file through the aws CLI(s) and the SDK against the emulator and s3rver, beside the bare node:http
//      ceiling measured in step 1 (bench/storage-peers.ts).
//   3. 100,000 keys (10,000 with --quick) are listed page by page (ListObjectsV2, 1,000 keys a page) through
//      presigned URLs with fetch; the AWS SDK's own listing (whose XML parsing costs more than the endpoint) is
//      noted for information. The keys are seeded straight into the emulator's database while it is stopped
//      (100,000 uploads would measure fsync), all sharing one blob.
// Exported for the runner (bench/run.ts) as `storageBench(ctx)`; `tsx bench/storage.ts [--quick]` runs it alone.
import { execFile } from "node:child_process";
import { open, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import Database from "better-sqlite3";
import {
  type BenchContext,
  formatNumber,
  median,
  memoryOf,
  ROW_HEADER,
  ROW_RIGHT,
  type Row,
  rowCells,
  type ScenarioReport,
  Scope,
  spawnBenchEmulator,
  table,
  tempDir,
} from "./common.js";
import { type Ceiling, measureHttpCeiling } from "./http-ceiling.js";
import { commandVersion } from "./peers.js";
import { copySeconds, download, downloadLean, MiB, settleDisk, upload, uploadLean } from "./s3-transfers.js";
import { storagePeers } from "./storage-peers.js";

const run = promisify(execFile);

interface TaskStorage {
  client: S3Client;
  endpoint: string;
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
  const task = await call<{ taskId: string }>("POST", `/htc/projects/${project.projectId}/tasks`, {
    taskName: "bench",
    taskDescription: "bench",
  });
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
    endpoint: token2.endpointUrl,
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

function figure(name: string, op: "<" | ">=", target: number, measured: number, unit: string, how: string): Row {
  return { figure: name, target: { op, value: target }, measured, unit, how };
}

/** A figure reported for information: no target, no verdict. */
function info(name: string, measured: number, unit: string, how: string): Row {
  return { figure: name, measured, unit, how };
}

async function median3(run: () => Promise<number>): Promise<number> {
  const values = [await run(), await run(), await run()].sort((a, b) => a - b);
  return values[1]!;
}

export async function storageBench(ctx: BenchContext): Promise<ScenarioReport> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const { scope, log } = ctx;
  const dir = await tempDir(scope, "storage");
  const dataDir = join(dir, "data");
  const size = ctx.quick ? 32 * MiB : 1024 * MiB;
  const warmUpSize = ctx.quick ? 16 * MiB : 128 * MiB;
  const keys = ctx.quick ? 10_000 : 100_000;
  const partSize = 16 * MiB;
  const rows: Row[] = [];

  // --- 1. throughput against cp on the same disk, memory ---
  const source = join(dir, "source.bin");
  log(`writing a ${size / MiB} MiB test file`);
  await makeFile(source, size);

  let emulator = await spawnBenchEmulator(scope, { dataDir });
  let storage = await taskStorage(emulator.baseUrl, emulator.token);
  const fresh = memoryOf(emulator.pid)?.rssMiB ?? 0;
  const downloaded = join(dir, "downloaded.bin");
  for (let round = 0; round < (ctx.quick ? 1 : 2); round++) {
    await upload(storage, `${storage.prefix}warm-up.bin`, source, warmUpSize, partSize, 4);
    await download(storage, `${storage.prefix}warm-up.bin`, downloaded, warmUpSize, partSize, 4);
  }
  await rm(downloaded);

  const cpSeconds = await median3(() => copySeconds(source, join(dir, "copy.bin")));
  const cpRate = size / MiB / cpSeconds;
  // "cp (GNU coreutils) 9.1" → "GNU coreutils 9.1"
  const cpVersion = (await commandVersion("cp"))?.replace(/^cp\s*\((.*?)\)\s*/, "$1 ") ?? "";
  log(`cp (flushed, median of 3): ${cpSeconds.toFixed(2)} s, ${cpRate.toFixed(0)} MiB/s`);
  // What node:http alone reaches here, with the same parts and concurrency: the ceiling of any Node endpoint.
  // Median of 3 (one with --quick), each after a `sync`: a single run here varies with the disk's flushes by 2×.
  const ceilingRuns: Ceiling[] = [];
  for (let i = 0; i < (ctx.quick ? 1 : 3); i++) {
    await settleDisk();
    ceilingRuns.push(await measureHttpCeiling(dir, source, size, partSize, 4));
  }
  const ceiling: Ceiling = {
    uploadMiBs: median(ceilingRuns.map((c) => c.uploadMiBs)),
    downloadMiBs: median(ceilingRuns.map((c) => c.downloadMiBs)),
  };
  const ceilingHow = ceilingRuns.length === 1 ? "one run" : `median of ${ceilingRuns.length}`;
  log(
    `bare node:http (no S3): upload ${ceilingRuns.map((c) => c.uploadMiBs.toFixed(0)).join(", ")} MiB/s, download ${ceilingRuns.map((c) => c.downloadMiBs.toFixed(0)).join(", ")} MiB/s`,
  );

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
  const leanUp = await timedRun("upload (presigned UploadPart URLs, node:http)", () =>
    uploadLean(storage, `${storage.prefix}lean.bin`, source, size, partSize, 4),
  );
  const leanDown = await timedRun("download (presigned ranged GETs, node:http)", () =>
    downloadLean(storage, `${storage.prefix}lean.bin`, downloaded, size, partSize, 4),
  );
  await verify();
  // The same through the AWS SDK (its signing, aws-chunked encoding and CRC32 in the client).
  const sdkUp = await timedRun("upload (AWS SDK UploadPart, streamed parts)", () =>
    upload(storage, `${storage.prefix}big.bin`, source, size, partSize, 4),
  );
  const sdkDown = await timedRun("download (AWS SDK ranged GetObject)", () =>
    download(storage, `${storage.prefix}big.bin`, downloaded, size, partSize, 4),
  );
  await verify();
  const peak = sampler.stop();
  log(`memory: ${fresh.toFixed(0)} MiB fresh, ${baseline.toFixed(0)} MiB warmed up, ${peak.toFixed(0)} MiB peak`);

  const label = `${size / MiB} MiB`;
  const disk = (what: string, miBs: number) => ({
    what,
    emulator: `${formatNumber(miBs)} MiB/s`,
    peer: `cp --reflink=never${cpVersion ? ` (${cpVersion})` : ""}, same disk, flushed`,
    peerFigure: `${formatNumber(cpRate)} MiB/s`,
    ratio: miBs / cpRate,
    target: ">= 0.8×",
  });
  rows.push(
    {
      ...figure(
        `S3 multipart upload of ${label}, % of cp's ${cpRate.toFixed(0)} MiB/s (AWS SDK: ${((100 * sdkUp) / cpRate).toFixed(0)}%)`,
        ">=",
        80,
        (100 * leanUp) / cpRate,
        "%",
        "one run",
      ),
      comparison: disk(`S3 multipart upload of ${label} (presigned parts, node:http client)`, leanUp),
    },
    {
      ...figure(
        `S3 ranged download of ${label}, % of cp's throughput (AWS SDK: ${((100 * sdkDown) / cpRate).toFixed(0)}%)`,
        ">=",
        80,
        (100 * leanDown) / cpRate,
        "%",
        "one run",
      ),
      comparison: disk(`S3 ranged download of ${label} (presigned ranges, node:http client)`, leanDown),
    },
    info(`  bare node:http server, same parts (no S3, no MD5): upload, % of cp`, (100 * ceiling.uploadMiBs) / cpRate, "%", ceilingHow),
    info(`  bare node:http server, same ranges: download, % of cp`, (100 * ceiling.downloadMiBs) / cpRate, "%", ceilingHow),
    info(`  S3 upload / bare node:http upload`, (100 * leanUp) / ceiling.uploadMiBs, "%", "derived"),
    info(`  S3 download / bare node:http download`, (100 * leanDown) / ceiling.downloadMiBs, "%", "derived"),
    figure(
      `emulator RSS growth during the ${label} transfers (warmed up; ${(peak - fresh).toFixed(0)} MB from a fresh start)`,
      "<",
      64,
      peak - baseline,
      "MB",
      "peak while transferring",
    ),
  );
  storage.client.destroy();

  // --- 2. the same file through the aws CLI and the SDK, against s3rver and the ceiling ---
  const peers = await storagePeers({
    ctx,
    dir,
    source,
    size,
    ceiling,
    emulator: {
      label: "the emulator",
      endpoint: storage.endpoint,
      bucket: storage.bucket,
      prefix: storage.prefix,
      credentials: storage.credentials,
    },
  });
  rows.push(...peers.rows);

  // --- 3. listing keys page by page ---
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
  rows.push(
    figure(
      `ListObjectsV2 of ${keys.toLocaleString("en-US")} keys, ${listing.pages} pages of 1,000 (SDK client: ${sdk.toFixed(1)} s)`,
      "<",
      2,
      listing.seconds,
      "s",
      "median of 3",
    ),
  );
  storage.client.destroy();
  return {
    rows,
    notes: [
      "baseline: `cp --reflink=never` of the same file on the same disk, flushed (median of 3); the emulator file-backed in a temporary data dir",
      ...peers.notes,
    ],
  };
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
    const page = await storage.client.send(
      new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: prefix, MaxKeys: 1000, ContinuationToken: token }),
    );
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
  const scope = new Scope();
  const log = (line: string) => process.stderr.write(`  [storage] ${line}\n`);
  storageBench({ quick: process.argv.includes("--quick"), log, scope })
    .then((report) => {
      console.log(table(ROW_HEADER, report.rows.map(rowCells), ROW_RIGHT));
      for (const note of report.notes) console.log(`  ${note}`);
    })
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => scope.close(log));
}
