// The S3-compatible endpoint, path-style under `/s3` of the emulator's own port: `<root>/s3/<bucket>/<key>`.
// This module is the dispatcher: it parses the raw request (the path exactly as sent, since keys and signatures
// depend on its encoding), authenticates it (access.ts), checks the scope the operation needs and routes on level
// (service, bucket, object), method and sub-resource to the handlers of listing.ts, objects.ts and multipart.ts.
// Every error is an S3Error rendered here as S3's XML error body.
import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import type { Core } from "../core.js";
import type { AppContext, AppEnv } from "../http/env.js";
import { storageEndpointUrl } from "../http/origin.js";
import { authenticate } from "./access.js";
import { S3Error, s3Errors } from "./errors.js";
import { S3_PREFIX } from "./layout.js";
import { listBuckets, listObjects } from "./listing.js";
import { abortUpload, completeUpload, createUpload, listParts, uploadPart } from "./multipart.js";
import { copyObject, deleteObject, deleteObjects, getObject, getObjectTagging, putObject } from "./objects.js";
import { parseQuery, type RequestView } from "./request-view.js";
import { empty, header, type NodeBindings, one, type S3Request, validateKey } from "./s3-request.js";
import { checkBucketAccess, checkObjectAccess } from "./scope.js";
import { renderXml } from "./xml.js";

/** Sub-resources the emulator does not implement; answered with NotImplemented. */
const UNSUPPORTED = [
  "acl",
  "tagging",
  "versioning",
  "policy",
  "cors",
  "lifecycle",
  "website",
  "logging",
  "notification",
  "replication",
  "encryption",
  "object-lock",
  "retention",
  "legal-hold",
  "torrent",
  "restore",
  "select",
  "versions",
  "accelerate",
  "requestPayment",
  "ownershipControls",
  "publicAccessBlock",
  "analytics",
  "inventory",
  "metrics",
  "intelligent-tiering",
  "attributes",
];

export function s3Routes(log: (line: string) => void = () => {}): Hono<AppEnv> {
  const s3 = new Hono<AppEnv>();
  s3.all("/", (c) => handle(c));
  s3.all("/*", (c) => handle(c));
  s3.onError((error, c) => {
    const requestId = (c.res.headers.get("x-amz-request-id") ?? randomBytes(8).toString("hex")).toUpperCase();
    const s3error =
      error instanceof S3Error ? error : new S3Error("InternalError", 500, "We encountered an internal error. Please try again.");
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
    const body = renderXml(
      "Error",
      { Code: s3error.code, Message: s3error.message, ...s3error.details, Resource: resource, RequestId: requestId },
      false,
    );
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
  // Every value of a repeated header apart (node's joined form has ", ", signatures join with ",").
  const headers = bindings.incoming?.headersDistinct ?? Object.fromEntries(c.req.raw.headers.entries());
  const resourcePath = rawPath.startsWith(S3_PREFIX) ? rawPath.slice(S3_PREFIX.length) || "/" : rawPath;
  const view: RequestView = { method: c.req.method, rawPath, resourcePath, rawQuery, headers };
  const requestId = randomBytes(8).toString("hex").toUpperCase();
  c.header("x-amz-request-id", requestId);

  const { bucket, key } = parsePath(rawPath);
  const query = parseQuery(rawQuery);
  const core = c.get("core");
  const access = await authenticate(core, view, query);
  const request: S3Request = {
    c,
    view,
    query,
    method: c.req.method,
    requestId,
    bindings,
    storage: core.storage,
    access,
    endpointUrl: () => storageEndpointUrl(c),
  };
  if (bucket === undefined) return serviceLevel(request, core);
  if (!core.storage.buckets.has(bucket)) throw s3Errors.noSuchBucket(bucket);
  if (key === undefined) return bucketLevel(request, bucket);
  validateKey(key);
  return objectLevel(request, bucket, key);
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

function unsupported(r: S3Request): void {
  for (const name of UNSUPPORTED) if (name in r.query) throw s3Errors.notImplemented(`the ${name} sub-resource`);
}

/** `/s3`: ListBuckets. */
function serviceLevel(r: S3Request, core: Pick<Core, "repos">): Response {
  if (r.method !== "GET") throw s3Errors.methodNotAllowed(r.method);
  const { scope } = r.access;
  const project = core.repos.projects.get(scope.projectId, scope.workspaceId)!;
  return listBuckets(r, project.created_at);
}

/** `/s3/<bucket>`: HeadBucket, GetBucketLocation, ListObjects(V2), DeleteObjects. */
async function bucketLevel(r: S3Request, bucket: string): Promise<Response> {
  unsupported(r);
  switch (r.method) {
    case "HEAD":
      checkBucketAccess(r.access, bucket);
      return empty(r, 200, { "x-amz-bucket-region": "us-east-1" });
    case "GET":
      if ("location" in r.query) {
        checkBucketAccess(r.access, bucket);
        return r.c.body(renderXml("LocationConstraint", {}), 200, { "content-type": "application/xml" });
      }
      if ("uploads" in r.query) throw s3Errors.notImplemented("ListMultipartUploads");
      return listObjects(r, bucket, one(r.query, "list-type") === "2");
    case "POST":
      if ("delete" in r.query) return deleteObjects(r, bucket);
      throw s3Errors.methodNotAllowed(r.method);
    case "PUT":
    case "DELETE":
      throw s3Errors.accessDenied("Buckets are managed by the emulator: one per region, created with the workspace.");
    default:
      throw s3Errors.methodNotAllowed(r.method);
  }
}

/**
 * `/s3/<bucket>/<key>`: the object operations and the multipart ones. The scope check says which operations a
 * presigned URL's credentials may make: only the plain GET/HEAD or PUT of its own object.
 */
async function objectLevel(r: S3Request, bucket: string, key: string): Promise<Response> {
  const { access } = r;
  if ("tagging" in r.query && r.method === "GET") {
    checkObjectAccess(access, bucket, key, "GET", false);
    return getObjectTagging(r, bucket, key);
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
        if (uploadId === undefined || partNumber === undefined)
          throw s3Errors.invalidRequest("UploadPart needs both partNumber and uploadId.");
        return uploadPart(r, bucket, key, uploadId, partNumber, copySource);
      }
      if (copySource !== undefined) return copyObject(r, bucket, key, copySource);
      return putObject(r, bucket, key);
    }
    case "POST":
      checkObjectAccess(access, bucket, key, "POST", false);
      if ("uploads" in r.query) return createUpload(r, bucket, key);
      if (uploadId !== undefined) return completeUpload(r, bucket, key, uploadId);
      throw s3Errors.notImplemented("POST object uploads");
    case "DELETE":
      checkObjectAccess(access, bucket, key, "DELETE", false);
      if (uploadId !== undefined) return abortUpload(r, bucket, key, uploadId);
      return deleteObject(r, bucket, key);
    default:
      throw s3Errors.methodNotAllowed(r.method);
  }
}
