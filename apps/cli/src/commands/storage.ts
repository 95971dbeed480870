// `htc storage upload|download|list|rm`: the project's shared storage (-s) or a task's storage (--task, the
// default). Credentials come from the storage-token endpoints; transfers use the S3 API (@aws-sdk/client-s3),
// against the token's `endpointUrl` (path-style) when the API names one, as the emulator does.
import { createReadStream, createWriteStream, mkdirSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import { unwrap } from "@htcemu/client";
import type { Command } from "commander";
import { type Session, sessionOf } from "../context.js";
import { CliError, ExitCode, externalError, usageError } from "../errors.js";
import { time } from "../output.js";
import { type Api, enumOption, type Schemas, SUPPORTED_REGIONS } from "./common.js";

type StorageToken = Api<"StorageAccessToken">;

interface WhereFlags {
  projectShared?: boolean;
  task?: string | boolean;
  region?: Schemas["SupportedRescaleRegion"];
}

/** An S3 client scoped to one storage folder. */
interface Storage {
  token: StorageToken;
  s3: S3Client;
  bucket: string;
  /** The folder's key prefix, ending with `/` (or empty). */
  base: string;
  /** `s3://bucket/base` for messages. */
  uri: string;
  sdk: typeof import("@aws-sdk/client-s3");
}

export function registerStorageCommands(program: Command): void {
  const storage = program
    .command("storage")
    .description("files of the project's shared storage (-s) or of a task's storage (--task, the default)");

  const where = (command: Command) =>
    command
      .option("-s, --project-shared", "the project's shared storage")
      .option("--task [taskId]", "a task's storage (default: the current task)")
      .option("--region <region>", "the storage of this region (default: the project's default region)", enumOption(SUPPORTED_REGIONS));

  where(
    storage
      .command("list")
      .alias("ls")
      .argument("[path]", "folder to list, relative to the storage root")
      .description("list files and folders")
      .option("-r, --recursive", "list every file below the folder"),
  ).action(async (path: string | undefined, opts: WhereFlags & { recursive?: boolean }, command: Command) => {
    const session = sessionOf(command);
    const st = await openStorage(session, opts);
    const folder = remoteKey(path ?? "", true);
    const { objects, folders } = await listAll(st, st.base + folder, opts.recursive ? undefined : "/");
    const files = objects.map((o) => ({ path: o.key.slice(st.base.length), size: o.size, lastModified: o.lastModified }));
    const dirs = folders.map((p) => p.slice(st.base.length));
    session.out.result({ storagePath: st.uri, prefix: folder, files, folders: dirs }, () => {
      session.out.table(
        ["name", "size", "modified"],
        [...dirs.map((d) => [d, "", ""]), ...files.map((f) => [f.path, f.size, time(f.lastModified)])],
      );
    });
  });

  where(
    storage
      .command("upload")
      .argument("<local>", "file or folder to upload")
      .argument("[remote]", "destination path (a trailing / puts the file into that folder; default: the file's name)")
      .description("upload a file, or a folder recursively"),
  ).action(async (local: string, remote: string | undefined, opts: WhereFlags, command: Command) => {
    const session = sessionOf(command);
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(local);
    } catch (error) {
      throw usageError(`cannot read ${local}: ${(error as Error).message}`);
    }
    const st = await openStorage(session, opts);
    const plan: { file: string; key: string; size: number }[] = [];
    if (stats.isDirectory()) {
      const folder = remote === undefined ? basename(resolve(local)) : remoteKey(remote, true).replace(/\/$/, "");
      for (const file of walk(local)) {
        const rel = relative(local, file).split(sep).join("/");
        plan.push({ file, key: folder ? `${folder}/${rel}` : rel, size: statSync(file).size });
      }
    } else {
      const target =
        remote === undefined
          ? basename(local)
          : remote.endsWith("/")
            ? `${remoteKey(remote, true)}${basename(local)}`
            : remoteKey(remote, false);
      plan.push({ file: local, key: target, size: stats.size });
    }
    const { Upload } = await import("@aws-sdk/lib-storage");
    await runLimited(plan, 4, async (item) => {
      const upload = new Upload({
        client: st.s3,
        params: { Bucket: st.bucket, Key: st.base + item.key, Body: createReadStream(item.file), ContentLength: item.size },
        abortController: session.controller,
      });
      await s3Call(upload.done(), `upload ${item.file}`);
      if (!session.out.machine) session.out.info(`uploaded ${item.file} → ${item.key}`);
    });
    session.out.result(
      plan.map((p) => ({ file: p.file, path: p.key, size: p.size })),
      () => session.out.line(`Uploaded ${plan.length} file(s), ${plan.reduce((n, p) => n + p.size, 0)} bytes, to ${st.uri}`),
    );
  });

  where(
    storage
      .command("download")
      .argument("<remote>", "file or folder to download")
      .argument("[local]", "destination (default: the remote name in the current folder)")
      .description("download a file, or a folder recursively"),
  ).action(async (remote: string, local: string | undefined, opts: WhereFlags, command: Command) => {
    const session = sessionOf(command);
    const st = await openStorage(session, opts);
    const key = remoteKey(remote, remote.endsWith("/"));
    const done: { path: string; file: string; size: number }[] = [];
    const single = !remote.endsWith("/") && key !== "" ? await headObject(st, st.base + key) : undefined;
    if (single) {
      let target = local ?? basename(key);
      if (local !== undefined && isDirectory(local)) target = join(local, basename(key));
      await download(st, st.base + key, target, session);
      done.push({ path: key, file: target, size: single.size });
    } else {
      const folder = key === "" ? "" : key.replace(/\/?$/, "/");
      const { objects } = await listAll(st, st.base + folder, undefined);
      if (objects.length === 0) throw new CliError(`no file or folder ${JSON.stringify(remote)} in ${st.uri}`, ExitCode.API);
      const root = local ?? (folder ? basename(folder.replace(/\/$/, "")) : ".");
      await runLimited(objects, 4, async (o) => {
        const rel = o.key.slice(st.base.length + folder.length);
        const target = join(root, ...rel.split("/"));
        await download(st, o.key, target, session);
        done.push({ path: o.key.slice(st.base.length), file: target, size: o.size });
      });
    }
    session.out.result(done, () =>
      session.out.line(`Downloaded ${done.length} file(s), ${done.reduce((n, d) => n + d.size, 0)} bytes, from ${st.uri}`),
    );
  });

  where(
    storage
      .command("rm")
      .alias("delete")
      .argument("<remote>", "file (or, with -r, folder) to delete")
      .description("delete a file, or a folder with -r")
      .option("-r, --recursive", "delete every file below the folder"),
  ).action(async (remote: string, opts: WhereFlags & { recursive?: boolean }, command: Command) => {
    const session = sessionOf(command);
    const st = await openStorage(session, opts);
    const key = remoteKey(remote, remote.endsWith("/"));
    const keys: string[] = [];
    if (key !== "" && !remote.endsWith("/") && (await headObject(st, st.base + key))) keys.push(st.base + key);
    if (opts.recursive) {
      const folder = key === "" ? "" : key.replace(/\/?$/, "/");
      const { objects } = await listAll(st, st.base + folder, undefined);
      keys.push(...objects.map((o) => o.key));
    }
    if (keys.length === 0) {
      throw new CliError(
        `no file ${JSON.stringify(remote)} in ${st.uri}`,
        ExitCode.API,
        opts.recursive ? undefined : "delete a folder with -r",
      );
    }
    await runLimited(keys, 8, (k) => s3Call(st.s3.send(new st.sdk.DeleteObjectCommand({ Bucket: st.bucket, Key: k })), `delete ${k}`));
    const paths = keys.map((k) => k.slice(st.base.length));
    session.out.result({ deleted: paths }, () => session.out.line(`Deleted ${paths.length} file(s) from ${st.uri}`));
  });
}

/** Credentials for the folder the flags name, and an S3 client for them. */
async function openStorage(session: Session, flags: WhereFlags): Promise<Storage> {
  if (flags.projectShared && flags.task !== undefined) throw usageError("choose either --project-shared or --task");
  const projectId = session.projectId();
  const region = flags.region;
  const api = session.client().api;
  let token: StorageToken;
  if (flags.projectShared) {
    token = region
      ? await unwrap(
          api.GET("/htc/projects/{projectId}/storage/token/{region}", { params: { path: { projectId, region } }, signal: session.signal }),
        )
      : await unwrap(api.GET("/htc/projects/{projectId}/storage/token", { params: { path: { projectId } }, signal: session.signal }));
  } else {
    const taskId = session.taskId(typeof flags.task === "string" ? flags.task : undefined);
    token = region
      ? await unwrap(
          api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/token/{region}", {
            params: { path: { projectId, taskId, region } },
            signal: session.signal,
          }),
        )
      : await unwrap(
          api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/token", {
            params: { path: { projectId, taskId } },
            signal: session.signal,
          }),
        );
  }
  const uri = token.storagePath || token.projectSharedStoragePath;
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri ?? "");
  if (!match) throw externalError(`unsupported storage ${JSON.stringify(uri)}: only S3 storage (AWS, or the emulator) is supported`);
  const bucket = match[1]!;
  const base = match[2] ? match[2].replace(/\/?$/, "/") : "";
  const credentials = token.credentials ?? {};
  if (!credentials["AWS_ACCESS_KEY_ID"] || !credentials["AWS_SECRET_ACCESS_KEY"])
    throw externalError("the storage token carries no AWS credentials");
  const sdk = await import("@aws-sdk/client-s3");
  const s3 = new sdk.S3Client({
    region: awsRegionOf(token.region),
    ...(token.endpointUrl ? { endpoint: token.endpointUrl, forcePathStyle: true } : {}),
    credentials: {
      accessKeyId: credentials["AWS_ACCESS_KEY_ID"],
      secretAccessKey: credentials["AWS_SECRET_ACCESS_KEY"],
      ...(credentials["AWS_SESSION_TOKEN"] ? { sessionToken: credentials["AWS_SESSION_TOKEN"] } : {}),
    },
    // Plain requests: S3-compatible stores need not understand the SDK's optional checksum trailers.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 3,
  });
  return { token, s3, bucket, base, uri: `s3://${bucket}/${base}`, sdk };
}

/** `AWS_US_EAST_2` → `us-east-2`; other providers' regions sign as us-east-1 (the emulator accepts any). */
export function awsRegionOf(region: string | undefined): string {
  if (region?.startsWith("AWS_")) return region.slice(4).toLowerCase().replace(/_/g, "-");
  return "us-east-1";
}

/** A remote path relative to the storage folder: no leading `/` or `./`, no `..`. */
export function remoteKey(path: string, folder: boolean): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw usageError(`remote paths cannot contain '..': ${JSON.stringify(path)}`);
  const joined = parts.join("/");
  return folder && joined ? `${joined}/` : joined;
}

interface Listed {
  key: string;
  size: number;
  lastModified: string;
}

async function listAll(st: Storage, prefix: string, delimiter: "/" | undefined): Promise<{ objects: Listed[]; folders: string[] }> {
  const objects: Listed[] = [];
  const folders: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3Call(
      st.s3.send(
        new st.sdk.ListObjectsV2Command({
          Bucket: st.bucket,
          Prefix: prefix,
          ...(delimiter ? { Delimiter: delimiter } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      ),
      "list",
    );
    for (const o of page.Contents ?? []) {
      if (o.Key)
        objects.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ? new Date(o.LastModified).toISOString() : "" });
    }
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) folders.push(p.Prefix);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { objects, folders };
}

async function headObject(st: Storage, key: string): Promise<{ size: number } | undefined> {
  try {
    const head = await st.s3.send(new st.sdk.HeadObjectCommand({ Bucket: st.bucket, Key: key }));
    return { size: head.ContentLength ?? 0 };
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (error as Error).name === "NotFound" || (error as Error).name === "NoSuchKey") return undefined;
    throw storageError(error, `look up ${key}`);
  }
}

async function download(st: Storage, key: string, target: string, session: Session): Promise<void> {
  const object = await s3Call(
    st.s3.send(new st.sdk.GetObjectCommand({ Bucket: st.bucket, Key: key }), { abortSignal: session.signal }),
    `download ${key}`,
  );
  const body = object.Body as NodeJS.ReadableStream | undefined;
  if (!body) throw externalError(`download ${key}: empty response`);
  mkdirSync(dirname(resolve(target)), { recursive: true });
  await pipeline(body, createWriteStream(target));
  if (!session.out.machine) session.out.info(`downloaded ${key.slice(st.base.length)} → ${target}`);
}

async function s3Call<T>(promise: Promise<T>, what: string): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw storageError(error, what);
  }
}

function storageError(error: unknown, what: string): Error {
  if (error instanceof CliError) return error;
  const e = error as Error & { $metadata?: { httpStatusCode?: number }; Code?: string };
  if (e?.name === "AbortError") return e;
  const status = e?.$metadata?.httpStatusCode;
  return externalError(
    `storage: ${what} failed: ${e?.name ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${e?.message ?? String(error)}`,
  );
}

function* walk(folder: string): Generator<string> {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function runLimited<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}
