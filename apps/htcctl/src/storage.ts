// One storage folder (a task's, or the project's shared one) as an S3 bucket and key prefix. The credentials come
// from the HTC API's storage-token operations and are fetched again when they are about to expire; requests go to
// the token's `endpointUrl` (path-style, the emulator's S3-compatible endpoint) when it names one, else to AWS.
import { createReadStream, createWriteStream, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, type GetObjectCommandOutput, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { components } from "@htcemu/client";
import type { Api } from "./api.js";
import { UsageError } from "./args.js";

type StorageToken = components["schemas"]["StorageAccessToken"];

export interface Where {
  projectId: string;
  /** Absent: the project's shared storage. */
  taskId?: string;
  region?: string;
}

export interface Folder {
  s3: S3Client;
  bucket: string;
  /** Key prefix of the folder, ending with `/` (or empty). */
  base: string;
  /** `s3://bucket/base`, for messages. */
  uri: string;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** On this machine's clock (the API's clock may differ: the answer's Date header tells by how much). */
  expiration: Date;
}

async function fetchToken(api: Api, where: Where): Promise<{ token: StorageToken; credentials: Credentials }> {
  const project = `/htc/projects/${encodeURIComponent(where.projectId)}`;
  const folder = where.taskId === undefined ? project : `${project}/tasks/${encodeURIComponent(where.taskId)}`;
  const requestedAt = Date.now();
  const { body: token, serverDate } = await api.get<StorageToken>(
    `${folder}/storage/token${where.region ? `/${encodeURIComponent(where.region)}` : ""}`,
  );
  const c = token.credentials;
  if (!c?.["AWS_ACCESS_KEY_ID"] || !c["AWS_SECRET_ACCESS_KEY"])
    throw new Error("the storage token carries no AWS credentials (only S3 storage is supported)");
  const skew = serverDate === undefined ? 0 : serverDate - requestedAt;
  // Without an expiration (production promises none), the credentials are taken to last an hour.
  const expiresAt = Date.parse(token.expiration ?? "");
  return {
    token,
    credentials: {
      accessKeyId: c["AWS_ACCESS_KEY_ID"],
      secretAccessKey: c["AWS_SECRET_ACCESS_KEY"],
      ...(c["AWS_SESSION_TOKEN"] ? { sessionToken: c["AWS_SESSION_TOKEN"] } : {}),
      // Never in the past for the SDK: a clock far ahead would otherwise make it ask for credentials on every request.
      expiration: new Date(Math.max(Number.isFinite(expiresAt) ? expiresAt - skew : requestedAt + 3600_000, Date.now() + 10 * 60_000)),
    },
  };
}

/** `AWS_US_EAST_2` → `us-east-2`; other providers' regions sign as us-east-1 (the emulator accepts any). */
export function awsRegionOf(region: string | undefined): string {
  if (region?.startsWith("AWS_")) return region.slice(4).toLowerCase().replace(/_/g, "-");
  return "us-east-1";
}

export async function openFolder(api: Api, where: Where): Promise<Folder> {
  const first = await fetchToken(api, where);
  const uri = first.token.storagePath || first.token.projectSharedStoragePath;
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri ?? "");
  if (!match) throw new Error(`unsupported storage ${JSON.stringify(uri)}: only S3 storage (AWS, or the emulator) is supported`);
  const bucket = match[1]!;
  const base = match[2] ? match[2].replace(/\/?$/, "/") : "";
  let cached: Credentials | undefined = first.credentials;
  // The SDK warns on every start under Node 20 that releases from 2027 on need Node 22; the job images have 20.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const s3 = new S3Client({
    region: awsRegionOf(first.token.region),
    ...(first.token.endpointUrl ? { endpoint: first.token.endpointUrl, forcePathStyle: true } : {}),
    // The first set, then a fresh one whenever the SDK finds the current one (nearly) expired.
    credentials: async () => {
      if (cached) {
        const c = cached;
        cached = undefined;
        return c;
      }
      return (await fetchToken(api, where)).credentials;
    },
    // Plain requests: S3-compatible stores need not understand the SDK's optional checksum trailers.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 4,
  });
  return { s3, bucket, base, uri: `s3://${bucket}/${base}` };
}

/**
 * The object key of a local path, relative to the storage folder: the path as written, without `./` and
 * leading `/` (absolute paths keep their folders), with `/` separators. `..` cannot be expressed in a key.
 */
export function keyOfPath(path: string): string {
  const parts = path.split(/[\\/]+/).filter((p) => p !== "" && p !== ".");
  if (parts.includes(".."))
    throw new UsageError(`cannot upload ${JSON.stringify(path)}: a path with '..' has no object key (run htcctl from a folder above it)`);
  if (parts.length === 0) throw new UsageError(`cannot upload ${JSON.stringify(path)}: it names no file`);
  return parts.join("/");
}

/** A key given on the command line (download, list): no leading `/` or `./`, no `..`. */
export function normalizeKey(key: string): string {
  const parts = key.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new UsageError(`object keys cannot contain '..': ${JSON.stringify(key)}`);
  return parts.join("/");
}

export interface Planned {
  file: string;
  key: string;
  size: number;
}

/** Files to upload and their keys; folders contribute every file below them. */
export function planUpload(paths: string[]): Planned[] {
  const plan: Planned[] = [];
  for (const path of paths) {
    let stats: ReturnType<typeof statSync>;
    try {
      stats = statSync(path);
    } catch (error) {
      throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const key = keyOfPath(path);
    if (stats.isDirectory()) {
      for (const file of walk(path)) {
        plan.push({ file, key: `${key}/${relative(path, file).split(sep).join("/")}`, size: statSync(file).size });
      }
    } else {
      plan.push({ file: path, key, size: stats.size });
    }
  }
  return plan;
}

function* walk(folder: string): Generator<string> {
  for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

export async function uploadFile(folder: Folder, item: Planned): Promise<void> {
  const upload = new Upload({
    client: folder.s3,
    params: { Bucket: folder.bucket, Key: folder.base + item.key, Body: createReadStream(item.file), ContentLength: item.size },
    queueSize: 2,
  });
  await upload.done();
}

export interface Listed {
  /** Relative to the folder. */
  key: string;
  size: number;
  lastModified: Date | undefined;
}

/** Every object below `prefix` (relative to the folder). */
export async function listObjects(folder: Folder, prefix: string): Promise<Listed[]> {
  const out: Listed[] = [];
  let token: string | undefined;
  do {
    const page = await folder.s3.send(
      new ListObjectsV2Command({ Bucket: folder.bucket, Prefix: folder.base + prefix, ...(token ? { ContinuationToken: token } : {}) }),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key?.startsWith(folder.base))
        out.push({ key: o.Key.slice(folder.base.length), size: o.Size ?? 0, lastModified: o.LastModified });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Downloads one object to `target` (through a temporary file, so a failure leaves no partial file); false when it does not exist. */
export async function downloadObject(folder: Folder, key: string, target: string): Promise<number | false> {
  let object: GetObjectCommandOutput;
  try {
    object = await folder.s3.send(new GetObjectCommand({ Bucket: folder.bucket, Key: folder.base + key }));
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  const body = object.Body as NodeJS.ReadableStream | undefined;
  if (!body) throw new Error(`download ${key}: empty response`);
  mkdirSync(dirname(target) || ".", { recursive: true });
  const partial = `${target}.htcctl-partial`;
  try {
    await pipeline(body, createWriteStream(partial));
    renameSync(partial, target);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  return object.ContentLength ?? statSync(target).size;
}

export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

/** Where a key lands below `dest`. */
export function localPathOf(dest: string, key: string): string {
  return join(dest, ...key.split("/"));
}
