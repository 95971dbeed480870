// Part of scenario `storage`: the emulator's S3 endpoint beside s3rver (an S3 server written for Node, the usual
// local stand-in), driven by the clients users have: every aws CLI found on this machine, and @aws-sdk/client-s3.
// The same file goes up to each server and comes back down, one server after the other, and is compared byte for
// byte; each download is flushed (fdatasync) before the clock stops. Three rounds (one with --quick), the servers'
// order rotating, each transfer after a `sync`; the medians are compared. The ratios to s3rver and to the bare
// node:http ceiling (measured by the caller in the same run, same file) carry the targets.
// Each client also moves the file through a bare node:http server that speaks just enough S3 for it
// (bench/ceilings/bare-s3.ts): what that client reaches on this machine when the server does next to nothing,
// which bounds what any server, the emulator or s3rver, can reach with it.
import { execFile } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { type BenchContext, type Comparison, formatNumber, median, type Row, tempDir } from "./common.js";
import type { Ceiling } from "./http-ceiling.js";
import { type Attempt, attempt, commandVersion, freePort, packageBin, packageDir, packageVersion, startPeer, tsxLoader } from "./peers.js";
import { download, flushFile, MiB, settleDisk, upload } from "./s3-transfers.js";

const run = promisify(execFile);

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** An S3 endpoint and where in it the bench may write. */
export interface S3Server {
  label: string;
  endpoint: string;
  bucket: string;
  /** Keys start with this (the task's folder on the emulator). */
  prefix: string;
  credentials: Credentials;
}

interface Client {
  /** Short: "aws CLI 2.9.19". */
  label: string;
  /** How it transfers, for the notes. */
  detail: string;
  close(): void;
  upload(server: S3Server, key: string): Promise<void>;
  download(server: S3Server, key: string, target: string): Promise<void>;
}

export interface StoragePeerInputs {
  ctx: BenchContext;
  dir: string;
  source: string;
  size: number;
  emulator: S3Server;
  ceiling: Ceiling;
}

/**
 * The same client settings for both servers: checksums only when an operation requires them. With the SDK's
 * default (CRC32 trailers, aws-chunked bodies) s3rver 3.7 stores the chunk framing as the object's data.
 */
function sdkClient(server: S3Server): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: server.credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

function sdk(source: string, size: number): Client {
  const clients = new Map<S3Server, S3Client>();
  const clientFor = (server: S3Server) => {
    const client = clients.get(server) ?? sdkClient(server);
    clients.set(server, client);
    return client;
  };
  return {
    label: `@aws-sdk/client-s3 ${packageVersion("@aws-sdk/client-s3")}`,
    detail: "16 MiB parts (UploadPart) and ranged GetObjects, 4 at a time, checksums only where required",
    close: () => {
      for (const client of clients.values()) client.destroy();
    },
    upload: (server, key) =>
      upload({ client: clientFor(server), bucket: server.bucket }, `${server.prefix}${key}`, source, size, 16 * MiB, 4),
    download: (server, key, target) =>
      download({ client: clientFor(server), bucket: server.bucket }, `${server.prefix}${key}`, target, size, 16 * MiB, 4),
  };
}

/** The aws CLIs on this machine: Debian's (/usr/bin/aws) and whatever `aws` comes first on PATH, each once. */
async function awsClis(source: string): Promise<Client[]> {
  const onPath = (process.env.PATH ?? "")
    .split(delimiter)
    .map((dir) => join(dir, "aws"))
    .find((file) => existsSync(file));
  const seen = new Set<string>();
  const clients: Client[] = [];
  for (const bin of ["/usr/bin/aws", onPath]) {
    if (!bin || !existsSync(bin)) continue;
    const real = realpathSync(bin);
    if (seen.has(real)) continue;
    seen.add(real);
    const version = await commandVersion(bin);
    if (!version) continue;
    const env = (server: S3Server): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
      ...(server.credentials.sessionToken ? { AWS_SESSION_TOKEN: server.credentials.sessionToken } : {}),
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      AWS_EC2_METADATA_DISABLED: "true",
    });
    const cp = (server: S3Server, from: string, to: string) =>
      run(bin, ["--endpoint-url", server.endpoint, "s3", "cp", "--only-show-errors", from, to], { env: env(server), timeout: 600_000 });
    const url = (server: S3Server, key: string) => `s3://${server.bucket}/${server.prefix}${key}`;
    clients.push({
      label: `aws CLI ${/aws-cli\/(\S+)/.exec(version)?.[1] ?? version}`,
      detail: `${bin} s3 cp with its defaults (8 MiB parts, 10 at a time), --endpoint-url, credentials in the environment`,
      close: () => {},
      upload: async (server, key) => {
        await cp(server, source, url(server, key));
      },
      download: async (server, key, target) => {
        await cp(server, url(server, key), target);
        await flushFile(target);
      },
    });
  }
  return clients;
}

async function startS3rver(ctx: BenchContext, dir: string): Promise<S3Server> {
  const data = await tempDir(ctx.scope, "s3rver"); // s3rver's storage directory
  const port = await freePort();
  const label = `s3rver ${packageVersion("s3rver")}`;
  const peer = await startPeer(ctx.scope, {
    label,
    executable: process.execPath,
    args: [
      packageBin("s3rver"),
      "--directory",
      data,
      "--address",
      "127.0.0.1",
      "--port",
      String(port),
      "--silent",
      "--configure-bucket",
      "bench",
    ],
    port,
    logFile: join(dir, "s3rver.log"),
  });
  ctx.log(`${label}: ${peer.command}`);
  return { label, endpoint: peer.url, bucket: "bench", prefix: "", credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } };
}

/** The client's ceiling: bench/ceilings/bare-s3.ts (uploads written and flushed, downloads served from `source`). */
async function startBareS3(ctx: BenchContext, dir: string, source: string): Promise<S3Server> {
  const parts = await tempDir(ctx.scope, "bare-s3");
  const port = await freePort();
  const label = "bare node:http speaking S3";
  const peer = await startPeer(ctx.scope, {
    label,
    executable: process.execPath,
    args: ["--import", tsxLoader, join(packageDir, "bench", "ceilings", "bare-s3.ts"), String(port), parts, source],
    port,
    logFile: join(dir, "bare-s3.log"),
  });
  return { label, endpoint: peer.url, bucket: "b", prefix: "", credentials: { accessKeyId: "BARE", secretAccessKey: "BARE" } };
}

const rate = (miBs: number) => `${formatNumber(miBs)} MiB/s`;

export async function storagePeers(inputs: StoragePeerInputs): Promise<{ rows: Row[]; notes: string[] }> {
  const { ctx, dir, source, size, emulator, ceiling } = inputs;
  const label = `${size / MiB} MiB`;
  const notes: string[] = [];
  const rows: Row[] = [];
  const s3rver = await attempt(() => startS3rver(ctx, dir));
  const s3rverLabel = s3rver.ok ? s3rver.value.label : `s3rver ${packageVersion("s3rver")}`;
  if (!s3rver.ok) notes.push(`${s3rverLabel} could not start: ${s3rver.reason}`);
  const bare = await attempt(() => startBareS3(ctx, dir, source));
  const bareLabel = "bare node:http speaking S3";
  if (!bare.ok) notes.push(`${bareLabel} could not start: ${bare.reason}`);

  const clis = await awsClis(source);
  const clients = [...(ctx.quick ? clis.slice(0, 1) : clis), sdk(source, size)];
  if (clis.length === 0) {
    const reason = "no aws CLI on this machine (apt-get install awscli)";
    const row: Row = { figure: "aws CLI: upload and download", measured: Number.NaN, unit: "MiB/s", how: "" };
    // CI promises every client (it installs awscli): a missing one there is a failure, elsewhere a gap.
    rows.push(process.env.HTC_REQUIRE_DOCKER === "1" ? { ...row, error: reason } : { ...row, unavailable: reason });
  }

  const downloaded = join(dir, "peer-download.bin");
  const timedTransfer = async (what: string, fn: () => Promise<void>): Promise<number> => {
    const started = performance.now();
    await fn();
    const seconds = (performance.now() - started) / 1000;
    ctx.log(`${what}: ${seconds.toFixed(2)} s, ${(size / MiB / seconds).toFixed(0)} MiB/s`);
    return size / MiB / seconds;
  };
  const rounds = ctx.quick ? 1 : 3;
  const how = rounds === 1 ? "one run" : `median of ${rounds}`;
  const verify = async (server: S3Server) => {
    const same =
      (await stat(downloaded)).size === size &&
      (await run("cmp", ["-s", source, downloaded]).then(
        () => true,
        () => false,
      ));
    await rm(downloaded, { force: true });
    if (!same) throw new Error(`the file downloaded from ${server.label} differs from the one uploaded`);
  };
  const remove = async (server: S3Server, key: string) => {
    const client = sdkClient(server);
    await client.send(new DeleteObjectCommand({ Bucket: server.bucket, Key: `${server.prefix}${key}` })).catch(() => {});
    client.destroy();
  };

  for (const [index, client] of clients.entries()) {
    const key = `peers-${index}.bin`;
    const servers: [S3Server, Attempt<S3Server>][] = [
      [emulator, { ok: true, value: emulator }],
      [s3rver.ok ? s3rver.value : { ...emulator, label: s3rverLabel }, s3rver],
      [bare.ok ? bare.value : { ...emulator, label: bareLabel }, bare],
    ];
    const up = new Map<S3Server, Attempt<number[]>>();
    const down = new Map<S3Server, Attempt<number[]>>();
    for (const [server, started] of servers) {
      up.set(server, started.ok ? { ok: true, value: [] } : { ok: false, reason: `could not start: ${started.reason}` });
      down.set(server, started.ok ? { ok: true, value: [] } : { ok: false, reason: `could not start: ${started.reason}` });
    }
    // Rounds with the servers in a rotating order, uploads then downloads, every transfer after a `sync`: no
    // server always goes first, and none pays for the writeback another one left behind (s3rver does not flush
    // its uploads; the kernel writes them out during whatever runs next).
    const timed = async (results: Map<S3Server, Attempt<number[]>>, server: S3Server, what: string, fn: () => Promise<void>) => {
      const runs = results.get(server)!;
      if (!runs.ok) return;
      await settleDisk();
      const measured = await attempt(() => timedTransfer(what, fn));
      if (measured.ok) runs.value.push(measured.value);
      else results.set(server, measured);
    };
    for (let round = 0; round < rounds; round++) {
      const order = servers.map(([server]) => server);
      for (let r = 0; r < round % order.length; r++) order.push(order.shift()!);
      for (const server of order) {
        await timed(up, server, `${client.label}: upload to ${server.label}`, () => client.upload(server, key));
      }
      for (const server of order) {
        if (!up.get(server)!.ok) {
          down.set(server, up.get(server)!);
          continue;
        }
        await timed(down, server, `${client.label}: download from ${server.label}`, async () => {
          await client.download(server, key, downloaded);
        });
        // Checked outside the clock: the same bytes came back.
        if (down.get(server)!.ok) {
          const checked = await attempt(() => verify(server));
          if (!checked.ok) down.set(server, checked);
        }
      }
    }
    for (const [server] of servers) if (up.get(server)!.ok) await remove(server, key);
    const [emulatorServer, peerServer, bareServer] = [servers[0]![0], servers[1]![0], servers[2]![0]];
    for (const [direction, results, ceilingMiBs] of [
      ["upload", up, ceiling.uploadMiBs],
      ["download", down, ceiling.downloadMiBs],
    ] as const) {
      const what = `${client.label}, ${direction} of ${label}`;
      const mine = medianOf(results.get(emulatorServer)!);
      const theirs = medianOf(results.get(peerServer)!);
      const ceilingOfClient = medianOf(results.get(bareServer)!);
      if (!mine.ok) {
        rows.push({ figure: `${what}: the emulator`, measured: Number.NaN, unit: "MiB/s", how, error: mine.reason });
        continue;
      }
      const base: Omit<Comparison, "peer" | "peerFigure"> = { what, emulator: rate(mine.value) };
      rows.push({ figure: `${what}: the emulator`, measured: mine.value, unit: "MiB/s", how });
      const s3rverRow: Row = theirs.ok
        ? {
            figure: `  ${client.label} ${direction}: emulator ÷ ${s3rverLabel} (${rate(theirs.value)})`,
            target: { op: ">=", value: 2 },
            measured: mine.value / theirs.value,
            unit: "×",
            how: `${how} each`,
            comparison: { ...base, peer: s3rverLabel, peerFigure: rate(theirs.value), ratio: mine.value / theirs.value, target: ">= 2×" },
          }
        : {
            figure: `  ${client.label} ${direction}: emulator ÷ ${s3rverLabel}`,
            target: { op: ">=", value: 2 },
            measured: Number.NaN,
            unit: "×",
            how: `${how} each`,
            error: theirs.reason,
            comparison: { ...base, peer: s3rverLabel, peerFigure: `did not run: ${theirs.reason}`, target: ">= 2×" },
          };
      rows.push(s3rverRow, ...clientCeilingRows(client.label, direction, mine.value, theirs, ceilingOfClient, how), {
        figure: `  ${client.label} ${direction}: emulator ÷ bare node:http ceiling (${rate(ceilingMiBs)})`,
        target: { op: ">=", value: 90 },
        measured: (100 * mine.value) / ceilingMiBs,
        unit: "%",
        how: `${how} each`,
        comparison: {
          ...base,
          peer: `bare node:http (Node ${process.version}), no S3`,
          peerFigure: rate(ceilingMiBs),
          ratio: mine.value / ceilingMiBs,
          target: ">= 0.9×",
        },
      });
    }
  }
  for (const client of clients) {
    client.close();
    notes.push(`client ${client.label}: ${client.detail}`);
  }
  notes.push(
    `${bareLabel}: each PUT written to a file and flushed, GETs served from the test file, fixed ETags and XML, no signature check, no hashing; what each client reaches when the server does next to nothing, so neither the emulator nor s3rver can pass it`,
    `peer ${s3rverLabel}: answers an upload before its bytes are on disk (it never flushes), where the emulator and the bare server flush every part first`,
    `peer ${s3rverLabel}: storage in a temporary folder, --silent; the SDK's default aws-chunked bodies with CRC32 trailers are not understood by it (it stores the framing as data), hence checksums only where required, for both servers`,
    "the bare node:http ceiling uses its own node:http client (16 MiB parts and ranges, 4 at a time); the CLI figures include the CLI's start-up",
  );
  return { rows, notes };
}

/**
 * What a client reaches against the bare S3 server, the emulator's share of it, and the most any server could
 * reach over s3rver with that client on this machine (that ceiling ÷ s3rver's figure): when this is below 2, the
 * target of 2× s3rver is out of reach for every server, the emulator included.
 */
function clientCeilingRows(
  client: string,
  direction: string,
  emulatorMiBs: number,
  s3rver: Attempt<number>,
  ceiling: Attempt<number>,
  how: string,
): Row[] {
  const what = `  ${client} ${direction}: the client's own ceiling, a bare node:http server speaking S3`;
  if (!ceiling.ok) return [{ figure: what, measured: Number.NaN, unit: "MiB/s", how, error: ceiling.reason }];
  const rows: Row[] = [
    { figure: what, measured: ceiling.value, unit: "MiB/s", how },
    { figure: `    emulator ÷ the client's ceiling`, measured: (100 * emulatorMiBs) / ceiling.value, unit: "%", how: `${how} each` },
  ];
  if (s3rver.ok) {
    rows.push({
      figure: `    the client's ceiling ÷ s3rver: the most any server reaches over s3rver here`,
      measured: ceiling.value / s3rver.value,
      unit: "×",
      how: `${how} each`,
    });
  }
  return rows;
}

/** The median of a server's runs, or why it has none. */
function medianOf(runs: Attempt<number[]>): Attempt<number> {
  if (!runs.ok) return runs;
  if (runs.value.length === 0) return { ok: false, reason: "no run" };
  return { ok: true, value: median(runs.value) };
}
