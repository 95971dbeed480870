// Single objects: GetObject and HeadObject (ranges, conditions, response header overrides; the body streamed from
// the files to the socket), PutObject (streamed from the socket to a verified file), CopyObject, DeleteObject,
// DeleteObjects, and the empty tag set. Every handler receives an authenticated request; the scope checks that
// depend on the key are made here or by the dispatcher (s3-routes.ts).
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import type { ObjectRow } from "../db/repositories/storage.js";
import { checkObjectAccess } from "./scope.js";
import { planBody } from "./body.js";
import { copySourceConditions, readConditions, writePrecondition } from "./conditional.js";
import { S3Error, s3Errors } from "./errors.js";
import { parseRange } from "./ranges.js";
import { bodyStream, empty, header, metaOf, one, readXmlBody, requestMeta, type S3Request, validateKey, xml } from "./s3-request.js";
import { textOf, type XmlNode, xmlTime } from "./xml.js";

/** Query parameters of GetObject that override a response header. */
const RESPONSE_OVERRIDES: Record<string, string> = {
  "response-content-type": "Content-Type",
  "response-content-language": "Content-Language",
  "response-expires": "Expires",
  "response-cache-control": "Cache-Control",
  "response-content-disposition": "Content-Disposition",
  "response-content-encoding": "Content-Encoding",
};

/** GetObject and HeadObject. */
export async function getObject(r: S3Request, bucket: string, key: string): Promise<Response> {
  const row = r.storage.object(bucket, key);
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
  for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = one(r.query, param);
    if (value !== undefined) headers[name] = value;
  }
  const notModified = readConditions((name) => header(r, name), row);
  if (notModified) return empty(r, notModified, { ETag: row.etag, "Last-Modified": headers["Last-Modified"]! });
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
  const stream = await r.storage.read(row, start, end);
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

export async function putObject(r: S3Request, bucket: string, key: string): Promise<Response> {
  const precondition = writePrecondition((name) => header(r, name), key);
  const plan = planBody(r.view, r.access.auth, r.access.secretAccessKey, r.storage.hashes);
  const row = await r.storage.putObject(bucket, key, bodyStream(r), plan, requestMeta(r), precondition);
  return empty(r, 200, { ETag: row.etag });
}

export function deleteObject(r: S3Request, bucket: string, key: string): Response {
  r.storage.deleteObject(bucket, key);
  return empty(r, 204);
}

/** Tags are not kept: every object has an empty tag set (the AWS CLI reads it when it copies large objects). */
export function getObjectTagging(r: S3Request, bucket: string, key: string): Response {
  if (!r.storage.object(bucket, key)) throw s3Errors.noSuchKey(key);
  return xml(r, "Tagging", { TagSet: {} });
}

/** DeleteObjects: each key is checked on its own; refusals are reported per key, as S3 does. */
export async function deleteObjects(r: S3Request, bucket: string): Promise<Response> {
  if (r.access.scope.object) throw s3Errors.accessDenied();
  const body = await readXmlBody(r, "Delete");
  const objects = Array.isArray(body["Object"]) ? (body["Object"] as unknown[]) : [];
  if (objects.length === 0 || objects.length > 1000) throw s3Errors.malformedXml();
  const quiet = textOf(body, "Quiet", true) === "true";
  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  for (const entry of objects) {
    const key = textOf(entry, "Key");
    if (key === undefined) throw s3Errors.malformedXml();
    try {
      validateKey(key);
      checkObjectAccess(r.access, bucket, key, "DELETE", false);
      r.storage.deleteObject(bucket, key);
      if (!quiet) deleted.push({ Key: key });
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      errors.push({ Key: key, Code: error.code, Message: error.message });
    }
  }
  return xml(r, "DeleteResult", { Deleted: deleted, Error: errors });
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
  if (slash <= 0 || slash === decoded.length - 1)
    throw s3Errors.invalidArgument("Invalid copy source object key", "x-amz-copy-source", value);
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

/**
 * The object `x-amz-copy-source` names (CopyObject, UploadPartCopy): the credentials must be able to read it and
 * it must meet the request's x-amz-copy-source-if-* conditions.
 */
export function copySourceRow(r: S3Request, value: string): ObjectRow {
  const source = parseCopySource(value);
  if (!r.storage.buckets.has(source.bucket)) throw s3Errors.noSuchBucket(source.bucket);
  validateKey(source.key);
  checkObjectAccess(r.access, source.bucket, source.key, "GET", false);
  const row = r.storage.object(source.bucket, source.key);
  if (!row) throw s3Errors.noSuchKey(source.key);
  copySourceConditions((name) => header(r, name), row);
  return row;
}

export async function copyObject(r: S3Request, bucket: string, key: string, copySource: string): Promise<Response> {
  const source = copySourceRow(r, copySource);
  const directive = (header(r, "x-amz-metadata-directive") ?? "COPY").toUpperCase();
  if (directive !== "COPY" && directive !== "REPLACE")
    throw s3Errors.invalidArgument("Unknown metadata directive.", "x-amz-metadata-directive", directive);
  if (source.bucket === bucket && source.key === key && directive === "COPY") {
    throw s3Errors.invalidRequest(
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const meta = directive === "REPLACE" ? requestMeta(r) : metaOf(source);
  const row = await r.storage.copyObject(source, bucket, key, meta);
  return xml(r, "CopyObjectResult", { LastModified: xmlTime(row.last_modified), ETag: row.etag });
}
