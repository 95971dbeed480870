// The S3-compatible endpoint, path-style under `/s3` of the emulator's own port:
// `<root>/s3/<bucket>/<key>`. One handler parses the raw request (the path exactly as sent, since keys and
// signatures depend on its encoding), authenticates it (access.ts) and dispatches on method and sub-resource.
// Bodies stream from the socket to disk and from disk to the socket; only small XML bodies are read whole.
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Hono } from "hono";
import type { ObjectRow } from "../db/repositories/storage.js";
import type { AppContext, AppEnv } from "../http/env.js";
import { publicOrigin } from "../http/origin.js";
import { type Access, authenticate, checkBucketAccess, checkListAccess, checkObjectAccess } from "./access.js";
import { planBody } from "./body.js";
import { S3Error, s3Errors } from "./errors.js";
import { S3_PREFIX } from "./layout.js";
import { MAX_PARTS, normalizeEtag, type ObjectMeta } from "./service.js";
import { encodeKey, parseQuery, type RequestView } from "./sigv4.js";
import { parseXml, renderXml, textOf, type XmlNode, xmlTime } from "./xml.js";

const MAX_KEY_BYTES = 1024;
const MAX_XML_BODY = 4 * 1024 * 1024;
/** Headers kept with an object and returned by GET and HEAD. */
const STORED_HEADERS = ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];
/** Sub-resources the emulator does not implement; answered with NotImplemented. */
const UNSUPPORTED = ["acl", "tagging", "versioning", "policy", "cors", "lifecycle", "website", "logging", "notification", "replication", "encryption", "object-lock", "retention", "legal-hold", "torrent", "restore", "select", "versions", "accelerate", "requestPayment", "ownershipControls", "publicAccessBlock", "analytics", "inventory", "metrics", "intelligent-tiering", "attributes"];

interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

interface S3Request {
  c: AppContext;
  view: RequestView;
  query: Record<string, string | string[]>;
  method: string;
  bucket: string | undefined;
  key: string | undefined;
  requestId: string;
  bindings: NodeBindings;
}

export function s3Routes(log: (line: string) => void = () => {}): Hono<AppEnv> {
  const s3 = new Hono<AppEnv>();
  s3.all("/", (c) => handle(c));
  s3.all("/*", (c) => handle(c));
  s3.onError((error, c) => {
    const requestId = (c.res.headers.get("x-amz-request-id") ?? randomBytes(8).toString("hex")).toUpperCase();
    const s3error =
      error instanceof S3Error
        ? error
        : new S3Error("InternalError", 500, "We encountered an internal error. Please try again.");
    if (!(error instanceof S3Error)) log(`s3: internal error on ${c.req.method} ${c.req.url}: ${(error as Error).stack ?? error}`);
    const outgoing = (c.env as NodeBindings | undefined)?.outgoing;
    if (outgoing?.headersSent) {
      // The body was already streaming: all that is left is to cut the connection.
      outgoing.destroy(error as Error);
      return new Response(null, { headers: { "x-hono-already-sent": "1" } });
    }
    const resource = new URL(c.req.url).pathname.slice(S3_PREFIX.length) || "/";
    const headers: Record<string, string> = { "x-amz-request-id": requestId, ...s3error.headers };
    if (c.req.method === "HEAD") return new Response(null, { status: s3error.status, headers });
    const body = renderXml("Error", { Code: s3error.code, Message: s3error.message, ...s3error.details, Resource: resource, RequestId: requestId }, false);
    return new Response(body, { status: s3error.status, headers: { ...headers, "content-type": "application/xml" } });
  });
  return s3;
}

async function handle(c: AppContext): Promise<Response> {
  const bindings = (c.env ?? {}) as NodeBindings;
  const rawUrl = bindings.incoming?.url ?? `${new URL(c.req.url).pathname}${new URL(c.req.url).search}`;
  const q = rawUrl.indexOf("?");
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const rawQuery = q < 0 ? "" : rawUrl.slice(q + 1);
  const headers = bindings.incoming?.headers ?? Object.fromEntries(c.req.raw.headers.entries());
  const view: RequestView = { method: c.req.method, rawPath, rawQuery, headers };
  const requestId = randomBytes(8).toString("hex").toUpperCase();
  c.header("x-amz-request-id", requestId);

  const { bucket, key } = parsePath(rawPath);
  const query = parseQuery(rawQuery);
  const request: S3Request = { c, view, query, method: c.req.method, bucket, key, requestId, bindings };
  const access = await authenticate(c.get("core"), view, query);
  if (bucket === undefined) return serviceLevel(request, access);
  if (!c.get("core").storage.buckets.has(bucket)) throw s3Errors.noSuchBucket(bucket);
  if (key === undefined) return bucketLevel(request, access, bucket);
  validateKey(key);
  return objectLevel(request, access, bucket, key);
}

/** `/s3/<bucket>/<key>` → bucket and key (decoded); the key keeps every character after the bucket's slash. */
function parsePath(rawPath: string): { bucket: string | undefined; key: string | undefined } {
  if (!rawPath.startsWith(S3_PREFIX)) throw s3Errors.invalidRequest("Not an S3 path.");
  const rest = rawPath.slice(S3_PREFIX.length).replace(/^\//, "");
  if (rest === "") return { bucket: undefined, key: undefined };
  const slash = rest.indexOf("/");
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw s3Errors.invalidArgument("The request path is not properly percent-encoded.");
    }
  };
  if (slash < 0 || slash === rest.length - 1) return { bucket: decode(slash < 0 ? rest : rest.slice(0, slash)), key: undefined };
  return { bucket: decode(rest.slice(0, slash)), key: decode(rest.slice(slash + 1)) };
}

/** Keys are names, never paths: no leading `/`, no `..` segment (nothing can escape a folder or the root). */
export function validateKey(key: string): void {
  if (key.startsWith("/") || key.split("/").includes("..")) throw s3Errors.invalidKey(key);
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw s3Errors.keyTooLong();
}

function one(query: Record<string, string | string[]>, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}

function header(r: S3Request, name: string): string | undefined {
  const value = r.view.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function unsupported(r: S3Request): void {
  for (const name of UNSUPPORTED) if (name in r.query) throw s3Errors.notImplemented(`the ${name} sub-resource`);
}

function xml(r: S3Request, root: string, content: XmlNode, status = 200): Response {
  return r.c.body(renderXml(root, content), status as 200, { "content-type": "application/xml" });
}

function empty(r: S3Request, status: number, headers: Record<string, string> = {}): Response {
  return r.c.body(null, status as 204, headers);
}

/** The request body as a node stream (the socket itself under the node server). */
function bodyStream(r: S3Request): Readable {
  if (r.bindings.incoming) return r.bindings.incoming;
  const body = r.c.req.raw.body;
  return body ? Readable.fromWeb(body as never) : Readable.from([]);
}

async function readXmlBody(r: S3Request, access: Access, root: string): Promise<Record<string, unknown>> {
  const plan = planBody(r.view, access.auth, access.secretAccessKey, r.c.get("core").storage.hashes, false);
  const chunks: Buffer[] = [];
  let size = 0;
  const collector = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > MAX_XML_BODY) return callback(s3Errors.invalidRequest("The XML body is too large."));
      chunks.push(chunk);
      callback();
    },
  });
  await pipeline([bodyStream(r), ...plan.transforms, collector]);
  await plan.check();
  return parseXml(Buffer.concat(chunks).toString("utf8"), root);
}

// --- service level: ListBuckets ---

function serviceLevel(r: S3Request, access: Access): Response {
  if (r.method !== "GET") throw s3Errors.methodNotAllowed(r.method);
  const project = r.c.get("core").repos.projects.get(access.scope.projectId, access.scope.workspaceId)!;
  return xml(r, "ListAllMyBucketsResult", {
    Owner: { ID: access.scope.userId, DisplayName: access.scope.userId },
    Buckets: { Bucket: [{ Name: access.bucket, CreationDate: xmlTime(project.created_at) }] },
  });
}

// --- bucket level ---

async function bucketLevel(r: S3Request, access: Access, bucket: string): Promise<Response> {
  unsupported(r);
  switch (r.method) {
    case "HEAD":
      checkBucketAccess(access, bucket);
      return empty(r, 200, { "x-amz-bucket-region": "us-east-1" });
    case "GET":
      if ("location" in r.query) {
        checkBucketAccess(access, bucket);
        return r.c.body(renderXml("LocationConstraint", {}), 200, { "content-type": "application/xml" });
      }
      if ("uploads" in r.query) throw s3Errors.notImplemented("ListMultipartUploads");
      return listObjects(r, access, bucket, one(r.query, "list-type") === "2");
    case "POST":
      if ("delete" in r.query) return deleteObjects(r, access, bucket);
      throw s3Errors.methodNotAllowed(r.method);
    case "PUT":
    case "DELETE":
      throw s3Errors.accessDenied("Buckets are managed by the emulator: one per region, created with the workspace.");
    default:
      throw s3Errors.methodNotAllowed(r.method);
  }
}

function decodeToken(token: string): { value: string; inclusive: boolean } {
  try {
    const [value, inclusive] = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as [unknown, unknown];
    if (typeof value === "string" && typeof inclusive === "boolean") return { value, inclusive };
  } catch {
    // fall through
  }
  throw s3Errors.invalidArgument("The continuation token provided is incorrect", "continuation-token", token);
}

function encodeToken(next: { value: string; inclusive: boolean }): string {
  return Buffer.from(JSON.stringify([next.value, next.inclusive])).toString("base64url");
}

function listObjects(r: S3Request, access: Access, bucket: string, v2: boolean): Response {
  const prefix = one(r.query, "prefix") ?? "";
  const delimiter = one(r.query, "delimiter") ?? "";
  const encodingType = one(r.query, "encoding-type");
  if (encodingType !== undefined && encodingType !== "url") throw s3Errors.invalidArgument("Invalid Encoding Method specified in Request", "encoding-type", encodingType);
  const maxKeysText = one(r.query, "max-keys");
  if (maxKeysText !== undefined && !/^\d+$/.test(maxKeysText)) throw s3Errors.invalidArgument("Provided max-keys not an integer or within integer range", "max-keys", maxKeysText);
  const maxKeys = Math.min(maxKeysText === undefined ? 1000 : Number(maxKeysText), 1000);
  checkListAccess(access, bucket, prefix);

  const continuation = v2 ? one(r.query, "continuation-token") : undefined;
  const startAfter = v2 ? one(r.query, "start-after") : one(r.query, "marker");
  const start = continuation !== undefined ? decodeToken(continuation) : startAfter ? { value: startAfter, inclusive: false } : undefined;
  const result = r.c.get("core").storage.list({ bucket, prefix, delimiter, maxKeys, start, within: access.prefix });
  const enc = (text: string) => (encodingType === "url" ? encodeKey(text) : text);
  const contents = result.contents.map((o) => ({
    Key: enc(o.key),
    LastModified: xmlTime(o.last_modified),
    ETag: o.etag,
    Size: o.size,
    StorageClass: "STANDARD",
  }));
  const commonPrefixes = result.commonPrefixes.map((p) => ({ Prefix: enc(p) }));
  const common = {
    Name: bucket,
    Prefix: enc(prefix),
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    MaxKeys: maxKeys,
    ...(encodingType ? { EncodingType: encodingType } : {}),
    IsTruncated: result.truncated,
  };
  if (v2) {
    return xml(r, "ListBucketResult", {
      ...common,
      KeyCount: contents.length + commonPrefixes.length,
      ...(continuation !== undefined ? { ContinuationToken: continuation } : {}),
      ...(result.truncated ? { NextContinuationToken: encodeToken(result.next) } : {}),
      ...(startAfter !== undefined ? { StartAfter: enc(startAfter) } : {}),
      Contents: contents,
      CommonPrefixes: commonPrefixes,
    });
  }
  return xml(r, "ListBucketResult", {
    ...common,
    Marker: enc(startAfter ?? ""),
    ...(result.truncated && delimiter && result.last !== undefined ? { NextMarker: enc(result.last) } : {}),
    Contents: contents,
    CommonPrefixes: commonPrefixes,
  });
}

async function deleteObjects(r: S3Request, access: Access, bucket: string): Promise<Response> {
  if (access.scope.object) throw s3Errors.accessDenied();
  const body = await readXmlBody(r, access, "Delete");
  const objects = Array.isArray(body["Object"]) ? (body["Object"] as unknown[]) : [];
  if (objects.length === 0 || objects.length > 1000) throw s3Errors.malformedXml();
  const quiet = textOf(body, "Quiet", true) === "true";
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  const storage = r.c.get("core").storage;
  for (const entry of objects) {
    const key = textOf(entry, "Key");
    if (key === undefined) throw s3Errors.malformedXml();
    try {
      validateKey(key);
      checkObjectAccess(access, bucket, key, "DELETE", false);
      storage.deleteObject(bucket, key);
      if (!quiet) deleted.push({ Key: key });
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      errors.push({ Key: key, Code: error.code, Message: error.message });
    }
  }
  return xml(r, "DeleteResult", { Deleted: deleted, Error: errors });
}

// --- object level ---

async function objectLevel(r: S3Request, access: Access, bucket: string, key: string): Promise<Response> {
  if ("tagging" in r.query && r.method === "GET") {
    // Tags are not kept: every object has an empty tag set (the AWS CLI reads it when it copies large objects).
    checkObjectAccess(access, bucket, key, "GET", false);
    if (!r.c.get("core").storage.object(bucket, key)) throw s3Errors.noSuchKey(key);
    return xml(r, "Tagging", { TagSet: {} });
  }
  unsupported(r);
  const uploadId = one(r.query, "uploadId");
  const copySource = header(r, "x-amz-copy-source");
  switch (r.method) {
    case "GET":
    case "HEAD":
      if (uploadId !== undefined && r.method === "GET") {
        checkObjectAccess(access, bucket, key, r.method, false);
        return listParts(r, bucket, key, uploadId);
      }
      checkObjectAccess(access, bucket, key, "GET", r.method === "GET" && !("partNumber" in r.query));
      return getObject(r, bucket, key);
    case "PUT": {
      const partNumber = one(r.query, "partNumber");
      checkObjectAccess(access, bucket, key, "PUT", uploadId === undefined && partNumber === undefined && copySource === undefined);
      if (uploadId !== undefined || partNumber !== undefined) {
        if (uploadId === undefined || partNumber === undefined) throw s3Errors.invalidRequest("UploadPart needs both partNumber and uploadId.");
        return uploadPart(r, access, bucket, key, uploadId, partNumber, copySource);
      }
      if (copySource !== undefined) return copyObject(r, access, bucket, key, copySource);
      return putObject(r, access, bucket, key);
    }
    case "POST":
      checkObjectAccess(access, bucket, key, "POST", false);
      if ("uploads" in r.query) {
        const uploadId = r.c.get("core").storage.createUpload(bucket, key, requestMeta(r));
        return xml(r, "InitiateMultipartUploadResult", { Bucket: bucket, Key: key, UploadId: uploadId });
      }
      if (uploadId !== undefined) return completeUpload(r, access, bucket, key, uploadId);
      throw s3Errors.notImplemented("POST object uploads");
    case "DELETE":
      checkObjectAccess(access, bucket, key, "DELETE", false);
      if (uploadId !== undefined) {
        const storage = r.c.get("core").storage;
        storage.abortUpload(storage.upload(bucket, key, uploadId));
        return empty(r, 204);
      }
      r.c.get("core").storage.deleteObject(bucket, key);
      return empty(r, 204);
    default:
      throw s3Errors.methodNotAllowed(r.method);
  }
}

/** Content-Type and the headers stored with a new object. */
function requestMeta(r: S3Request): ObjectMeta {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.view.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(",") : value;
    if (name.startsWith("x-amz-meta-")) headers[name] = text;
    else if (STORED_HEADERS.includes(name)) {
      if (name === "content-encoding") {
        // aws-chunked is the transfer framing, not the object's encoding.
        const kept = text.split(",").map((e) => e.trim()).filter((e) => e && e.toLowerCase() !== "aws-chunked");
        if (kept.length) headers[name] = kept.join(",");
      } else headers[name] = text;
    }
  }
  return { contentType: header(r, "content-type") ?? null, headers };
}

function metaOf(row: ObjectRow): ObjectMeta {
  return { contentType: row.content_type, headers: row.headers ? (JSON.parse(row.headers) as Record<string, string>) : {} };
}

async function putObject(r: S3Request, access: Access, bucket: string, key: string): Promise<Response> {
  const plan = planBody(r.view, access.auth, access.secretAccessKey, r.c.get("core").storage.hashes);
  const row = await r.c.get("core").storage.putObject(bucket, key, bodyStream(r), plan, requestMeta(r));
  return empty(r, 200, { ETag: row.etag });
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` → inclusive range; undefined when absent or not a single byte range. */
function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (!value) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (size === 0) return undefined;
  if (m[1] === "") {
    const length = Number(m[2]);
    if (length === 0) throw s3Errors.invalidRange(size);
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) throw s3Errors.invalidRange(size);
  if (end < start) return undefined;
  return { start, end };
}

function checkConditions(r: S3Request, row: ObjectRow): number | undefined {
  const etag = normalizeEtag(row.etag);
  const matches = (list: string) => list.split(",").some((e) => e.trim() === "*" || normalizeEtag(e) === etag);
  const modified = Math.floor(row.last_modified / 1000) * 1000;
  const ifMatch = header(r, "if-match");
  const ifNoneMatch = header(r, "if-none-match");
  const ifModifiedSince = header(r, "if-modified-since");
  const ifUnmodifiedSince = header(r, "if-unmodified-since");
  if (ifMatch !== undefined && !matches(ifMatch)) throw s3Errors.preconditionFailed("If-Match");
  if (ifMatch === undefined && ifUnmodifiedSince !== undefined && modified > Date.parse(ifUnmodifiedSince)) {
    throw s3Errors.preconditionFailed("If-Unmodified-Since");
  }
  if (ifNoneMatch !== undefined && matches(ifNoneMatch)) return 304;
  if (ifNoneMatch === undefined && ifModifiedSince !== undefined && modified <= Date.parse(ifModifiedSince)) return 304;
  return undefined;
}

async function getObject(r: S3Request, bucket: string, key: string): Promise<Response> {
  const storage = r.c.get("core").storage;
  const row = storage.object(bucket, key);
  if (!row) throw s3Errors.noSuchKey(key);
  const meta = metaOf(row);
  const headers: Record<string, string> = {
    "x-amz-request-id": r.requestId,
    ETag: row.etag,
    "Last-Modified": new Date(row.last_modified).toUTCString(),
    "Accept-Ranges": "bytes",
    "Content-Type": meta.contentType ?? "binary/octet-stream",
    ...meta.headers,
  };
  const overrides: Record<string, string> = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
  };
  for (const [param, name] of Object.entries(overrides)) {
    const value = one(r.query, param);
    if (value !== undefined) headers[name] = value;
  }
  const notModified = checkConditions(r, row);
  if (notModified) return empty(r, 304, { ETag: row.etag, "Last-Modified": headers["Last-Modified"]! });
  const range = parseRange(header(r, "range"), row.size);
  const start = range?.start ?? 0;
  const end = range?.end ?? row.size - 1;
  const status = range ? 206 : 200;
  if (range) headers["Content-Range"] = `bytes ${start}-${end}/${row.size}`;
  headers["Content-Length"] = String(end - start + 1);

  const outgoing = r.bindings.outgoing;
  if (r.method === "HEAD") {
    // Hono answers HEAD with the GET route and drops the body: the length must be set here.
    return empty(r, status, headers);
  }
  const stream = await storage.read(row, start, end);
  if (!outgoing) return new Response(Readable.toWeb(stream) as ReadableStream, { status, headers });
  outgoing.writeHead(status, headers);
  try {
    await pipeline(stream, outgoing);
  } catch {
    // The client went away mid-download; nothing can be reported any more.
    outgoing.destroy();
  }
  return new Response(null, { headers: { "x-hono-already-sent": "1" } });
}

function parseCopySource(value: string): { bucket: string; key: string } {
  const withoutVersion = value.split("?")[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(withoutVersion).replace(/^\//, "");
  } catch {
    throw s3Errors.invalidArgument("Invalid copy source encoding", "x-amz-copy-source", value);
  }
  const slash = decoded.indexOf("/");
  if (slash <= 0 || slash === decoded.length - 1) throw s3Errors.invalidArgument("Invalid copy source object key", "x-amz-copy-source", value);
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

function copySourceRow(r: S3Request, access: Access, value: string): ObjectRow {
  const source = parseCopySource(value);
  const storage = r.c.get("core").storage;
  if (!storage.buckets.has(source.bucket)) throw s3Errors.noSuchBucket(source.bucket);
  validateKey(source.key);
  checkObjectAccess(access, source.bucket, source.key, "GET", false);
  const row = storage.object(source.bucket, source.key);
  if (!row) throw s3Errors.noSuchKey(source.key);
  return row;
}

async function copyObject(r: S3Request, access: Access, bucket: string, key: string, copySource: string): Promise<Response> {
  const source = copySourceRow(r, access, copySource);
  const directive = (header(r, "x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE") throw s3Errors.invalidArgument("Unknown metadata directive.", "x-amz-metadata-directive", directive);
  if (source.bucket === bucket && source.key === key && directive === "COPY") {
    throw s3Errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const meta = directive === "REPLACE" ? requestMeta(r) : metaOf(source);
  const row = await r.c.get("core").storage.copyObject(source, bucket, key, meta);
  return xml(r, "CopyObjectResult", { LastModified: xmlTime(row.last_modified), ETag: row.etag });
}

function parsePartNumber(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_PARTS) {
    throw s3Errors.invalidArgument(`Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`, "partNumber", text);
  }
  return Number(text);
}

async function uploadPart(r: S3Request, access: Access, bucket: string, key: string, uploadId: string, partText: string, copySource: string | undefined): Promise<Response> {
  const partNumber = parsePartNumber(partText);
  const storage = r.c.get("core").storage;
  const upload = storage.upload(bucket, key, uploadId);
  if (copySource !== undefined) {
    const source = copySourceRow(r, access, copySource);
    const rangeText = header(r, "x-amz-copy-source-range");
    let start = 0;
    let end = source.size - 1;
    if (rangeText !== undefined) {
      const m = /^bytes=(\d+)-(\d+)$/.exec(rangeText.trim());
      if (!m || Number(m[2]) < Number(m[1]) || Number(m[2]) >= source.size) {
        throw s3Errors.invalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy", "x-amz-copy-source-range", rangeText);
      }
      start = Number(m[1]);
      end = Number(m[2]);
    }
    const part = await storage.uploadPartCopy(upload, partNumber, source, start, end);
    return xml(r, "CopyPartResult", { LastModified: xmlTime(part.last_modified), ETag: part.etag });
  }
  const plan = planBody(r.view, access.auth, access.secretAccessKey, r.c.get("core").storage.hashes);
  const part = await storage.uploadPart(upload, partNumber, bodyStream(r), plan);
  return empty(r, 200, { ETag: part.etag });
}

async function completeUpload(r: S3Request, access: Access, bucket: string, key: string, uploadId: string): Promise<Response> {
  const storage = r.c.get("core").storage;
  const upload = storage.upload(bucket, key, uploadId);
  const body = await readXmlBody(r, access, "CompleteMultipartUpload");
  const parts = (Array.isArray(body["Part"]) ? (body["Part"] as unknown[]) : []).map((p) => {
    const number = textOf(p, "PartNumber", true);
    const etag = textOf(p, "ETag", true);
    if (number === undefined || etag === undefined || !/^\d+$/.test(number)) throw s3Errors.malformedXml();
    return { partNumber: Number(number), etag };
  });
  const row = storage.completeUpload(upload, parts);
  const location = `${publicOrigin(r.c)}${S3_PREFIX}/${bucket}/${encodeKey(key)}`;
  return xml(r, "CompleteMultipartUploadResult", { Location: location, Bucket: bucket, Key: key, ETag: row.etag });
}

function listParts(r: S3Request, bucket: string, key: string, uploadId: string): Response {
  const storage = r.c.get("core").storage;
  const upload = storage.upload(bucket, key, uploadId);
  const markerText = one(r.query, "part-number-marker") ?? "0";
  const maxText = one(r.query, "max-parts") ?? "1000";
  if (!/^\d+$/.test(markerText)) throw s3Errors.invalidArgument("Invalid part-number-marker", "part-number-marker", markerText);
  if (!/^\d+$/.test(maxText)) throw s3Errors.invalidArgument("Invalid max-parts", "max-parts", maxText);
  const maxParts = Math.min(Number(maxText), 1000);
  const { parts, truncated } = storage.listParts(upload, Number(markerText), maxParts);
  return xml(r, "ListPartsResult", {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    PartNumberMarker: Number(markerText),
    ...(parts.length ? { NextPartNumberMarker: parts[parts.length - 1]!.part_number } : {}),
    MaxParts: maxParts,
    IsTruncated: truncated,
    StorageClass: "STANDARD",
    Part: parts.map((p) => ({ PartNumber: p.part_number, LastModified: xmlTime(p.last_modified), ETag: p.etag, Size: p.size })),
  });
}
