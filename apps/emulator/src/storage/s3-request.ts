// One request to the S3 endpoint as the handlers see it (parsed once by s3-routes.ts), and the small pieces every
// handler shares: reading headers and query parameters, answering with XML or an empty body, the request body as
// a stream, small XML request bodies, key rules and the headers stored with an object.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Context } from "hono";
import type { ObjectRow } from "../db/repositories/storage.js";
import type { Access } from "./scope.js";
import { planBody } from "./body.js";
import { s3Errors } from "./errors.js";
import type { RequestView } from "./request-view.js";
import type { ObjectMeta, StorageService } from "./service.js";
import { parseXml, renderXml, type XmlNode } from "./xml.js";

const MAX_KEY_BYTES = 1024;
const MAX_XML_BODY = 4 * 1024 * 1024;
/** Headers kept with an object and returned by GET and HEAD. */
const STORED_HEADERS = ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];

/** What @hono/node-server passes as the context's env: node's own request and response. */
export interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

export interface S3Request {
  /** Hono's context, for answers and the body; the handlers need nothing else of the app. */
  c: Context;
  view: RequestView;
  query: Record<string, string | string[]>;
  method: string;
  requestId: string;
  bindings: NodeBindings;
  storage: StorageService;
  /** Who is calling and what the credentials reach. */
  access: Access;
  /** The endpoint as the caller reaches it, e.g. `http://127.0.0.1:8080/s3`. */
  endpointUrl(): string;
}

/** Keys are names, never paths: no leading `/`, no `..` segment (nothing can escape a folder or the root). */
export function validateKey(key: string): void {
  if (key.startsWith("/") || key.split("/").includes("..")) throw s3Errors.invalidKey(key);
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw s3Errors.keyTooLong();
}

/** A query parameter (the first, when repeated). */
export function one(query: Record<string, string | string[]>, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}

export function header(r: S3Request, name: string): string | undefined {
  const value = r.view.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function xml(r: S3Request, root: string, content: XmlNode, status = 200): Response {
  return r.c.body(renderXml(root, content), status as 200, { "content-type": "application/xml" });
}

export function empty(r: S3Request, status: number, headers: Record<string, string> = {}): Response {
  return r.c.body(null, status as 204, headers);
}

/** The request body as a node stream (the socket itself under the node server). */
export function bodyStream(r: S3Request): Readable {
  if (r.bindings.incoming) return r.bindings.incoming;
  const body = r.c.req.raw.body;
  return body ? Readable.fromWeb(body as never) : Readable.from([]);
}

/** A small XML request body (DeleteObjects, CompleteMultipartUpload), verified like any upload, then parsed. */
export async function readXmlBody(r: S3Request, root: string): Promise<Record<string, unknown>> {
  const plan = planBody(r.view, r.access.auth, r.access.secretAccessKey, r.storage.hashes, false);
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
  await plan.check(size);
  return parseXml(Buffer.concat(chunks).toString("utf8"), root);
}

/** Content-Type and the headers stored with a new object. */
export function requestMeta(r: S3Request): ObjectMeta {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.view.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(",") : value;
    if (name.startsWith("x-amz-meta-")) headers[name] = text;
    else if (STORED_HEADERS.includes(name)) {
      if (name === "content-encoding") {
        // aws-chunked is the transfer framing, not the object's encoding.
        const kept = text
          .split(",")
          .map((e) => e.trim())
          .filter((e) => e && e.toLowerCase() !== "aws-chunked");
        if (kept.length) headers[name] = kept.join(",");
      } else headers[name] = text;
    }
  }
  return { contentType: header(r, "content-type") ?? null, headers };
}

/** The stored Content-Type and headers of an object. */
export function metaOf(row: ObjectRow): ObjectMeta {
  return { contentType: row.content_type, headers: row.headers ? (JSON.parse(row.headers) as Record<string, string>) : {} };
}
