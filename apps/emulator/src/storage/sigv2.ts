// Verification of AWS Signature Version 2, S3's older scheme, which clients still use: Debian 12's boto3 (1.26)
// presigns GetObject with it by default. Two forms: the header `Authorization: AWS <accessKeyId>:<signature>`
// (dated by `Date` or `x-amz-date`), and query-string authentication (`AWSAccessKeyId`, `Signature`, `Expires` in
// seconds since the epoch, and the session token as `x-amz-security-token`). The signature is the base64 of an
// HMAC-SHA1, under the secret access key, of
//   VERB \n Content-MD5 \n Content-Type \n Date (or Expires) \n CanonicalizedAmzHeaders CanonicalizedResource
// where CanonicalizedAmzHeaders are the `x-amz-*` headers (lower-case, sorted, `name:value\n` each, repeated
// values joined by commas; in a presigned URL the `x-amz-*` query parameters count as headers, since the signer
// signed them as headers before moving them into the URL), and CanonicalizedResource is `/bucket/key` as sent
// (the path after the endpoint's `/s3`) plus the sub-resources of the query (sorted by name, values decoded);
// see canonicalResources() for the other forms signers use. No library verifies SigV2 on a server, so the string
// is built here from the specification; the HMAC is node's.
import { createHmac } from "node:crypto";
import { s3Errors } from "./errors.js";
import { decodeQueryText, headerValue, type RequestView, single } from "./request-view.js";
import { sameText } from "./sigv4.js";

export interface SigV2Auth {
  version: 2;
  via: "header" | "query";
  accessKeyId: string;
  sessionToken: string | undefined;
  /** base64 of the HMAC-SHA1 (28 characters). */
  signature: string;
  /** Presigned URLs: the moment the URL stops working, in seconds since the epoch. */
  expires?: number;
}

/** The prefix of a Signature Version 2 Authorization header. */
export const SIGV2_SCHEME = "AWS ";

/** The query parameters of query-string authentication (version 2). */
export const SIGV2_QUERY_PARAMETERS = ["AWSAccessKeyId", "Signature", "Expires"] as const;

/**
 * Query parameters that are part of the resource being signed (S3's sub-resources and response header overrides);
 * every other parameter is left out of the string to sign.
 */
const SUB_RESOURCES: ReadonlySet<string> = new Set([
  "accelerate",
  "acl",
  "analytics",
  "cors",
  "defaultObjectAcl",
  "delete",
  "inventory",
  "lifecycle",
  "location",
  "logging",
  "metrics",
  "notification",
  "object-lock",
  "partNumber",
  "policy",
  "replication",
  "requestPayment",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-content-type",
  "response-expires",
  "restore",
  "select",
  "select-type",
  "storageClass",
  "tagging",
  "torrent",
  "uploadId",
  "uploads",
  "versionId",
  "versioning",
  "versions",
  "website",
]);

/** base64 of 20 bytes. */
const SIGNATURE = /^[A-Za-z0-9+/]{27}=$/;

/** `Authorization: AWS <accessKeyId>:<signature>` (the caller checked the prefix). */
export function parseSigV2Header(header: string, view: RequestView): SigV2Auth {
  const credentials = header.slice(SIGV2_SCHEME.length).trim();
  const colon = credentials.lastIndexOf(":");
  const accessKeyId = colon > 0 ? credentials.slice(0, colon) : "";
  const signature = colon > 0 ? credentials.slice(colon + 1) : "";
  if (!accessKeyId || /[\s:]/.test(accessKeyId) || !signature) {
    throw s3Errors.authorizationMalformed(
      'The Authorization header is malformed; Signature Version 2 expects "AWS <accessKeyId>:<signature>".',
    );
  }
  if (!SIGNATURE.test(signature)) {
    throw s3Errors.authorizationMalformed(
      `The signature '${signature}' is malformed; a Signature Version 2 signature is the base64 of an HMAC-SHA1 (28 characters).`,
    );
  }
  const date = single(view.headers["x-amz-date"]) ?? single(view.headers["date"]);
  if (date === undefined || !validDate(date)) throw s3Errors.missingDate();
  return { version: 2, via: "header", accessKeyId, sessionToken: single(view.headers["x-amz-security-token"]), signature };
}

/** A presigned URL's `AWSAccessKeyId`, `Signature` and `Expires` (and the session token). */
export function parseSigV2Query(query: Record<string, string | string[]>): SigV2Auth {
  const fail = (message: string) => s3Errors.authorizationQueryError(message);
  const accessKeyId = single(query["AWSAccessKeyId"]);
  const signature = single(query["Signature"]);
  const expires = single(query["Expires"]);
  if (!accessKeyId || !signature || !expires) {
    throw fail("Query-string authentication (Signature Version 2) requires the AWSAccessKeyId, Signature and Expires parameters.");
  }
  if (!/^\d{1,12}$/.test(expires))
    throw fail(`Expires '${expires}' is malformed; it is the time the URL expires, in whole seconds since the epoch.`);
  if (!SIGNATURE.test(signature)) {
    throw fail(`The Signature '${signature}' is malformed; a Signature Version 2 signature is the base64 of an HMAC-SHA1 (28 characters).`);
  }
  return {
    version: 2,
    via: "query",
    accessKeyId,
    sessionToken: queryParameterAnyCase(query, "x-amz-security-token"),
    signature,
    expires: Number(expires),
  };
}

function validDate(text: string): boolean {
  return /^\d{8}T\d{6}Z$/.test(text) || !Number.isNaN(Date.parse(text));
}

/** A query parameter whose name is `name` in any case (signers hoist headers under lower-case names). */
function queryParameterAnyCase(query: Record<string, string | string[]>, name: string): string | undefined {
  for (const [key, value] of Object.entries(query)) if (key.toLowerCase() === name) return single(value);
  return undefined;
}

/** The `x-amz-*` headers (and for presigned URLs the `x-amz-*` query parameters), canonicalized. */
function canonicalAmzHeaders(view: RequestView, query: Record<string, string | string[]>, auth: SigV2Auth): string {
  const values = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    const list = values.get(name);
    if (list) list.push(value.trim());
    else values.set(name, [value.trim()]);
  };
  for (const name of Object.keys(view.headers)) if (name.startsWith("x-amz-")) add(name, headerValue(view, name));
  if (auth.via === "query") {
    for (const [name, value] of Object.entries(query)) {
      const lower = name.toLowerCase();
      if (!lower.startsWith("x-amz-")) continue;
      for (const v of Array.isArray(value) ? value : [value]) add(lower, v);
    }
  }
  return [...values.keys()]
    .sort()
    .map((name) => `${name}:${values.get(name)!.join(",")}\n`)
    .join("");
}

/** The sub-resources of the query in the order sent: name, and the decoded value (undefined for a bare name). */
function subResources(view: RequestView): Array<[string, string | undefined]> {
  const found: Array<[string, string | undefined]> = [];
  for (const pair of view.rawQuery.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeQueryText(eq < 0 ? pair : pair.slice(0, eq));
    if (SUB_RESOURCES.has(name)) found.push([name, eq < 0 ? undefined : decodeQueryText(pair.slice(eq + 1))]);
  }
  // Sorted by name; stable, so repeated names keep the order they were sent in.
  return found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * The ways signers write the CanonicalizedResource of this request, S3's own first: `/bucket/key` and the sorted
 * sub-resources. Also verified, since each names the same resource: a sub-resource sent as `name=` written as a
 * bare `name`; a bucket written `/bucket/`; the endpoint's whole path (`/s3/bucket/key`); and the form of botocore
 * 1.28-1.29 (Debian 12's python3-botocore), which signs the first query parameter of its request-URI template as
 * part of the path (`/bucket?list-type=2`, `/bucket/key?uploads?uploads`).
 */
export function canonicalResources(view: RequestView): string[] {
  const bucketLevel = /^\/[^/]+\/?$/.test(view.resourcePath);
  const resource = bucketLevel ? view.resourcePath.replace(/\/$/, "") : view.resourcePath;
  const paths = bucketLevel ? [resource, `${resource}/`, view.rawPath] : [resource, view.rawPath];
  const subs = subResources(view);
  const join = (bareEmpty: boolean) =>
    subs.map(([name, value]) => (value === undefined || (bareEmpty && value === "") ? name : `${name}=${value}`)).join("&");
  const queries = [join(false), join(true)].map((q) => (q ? `?${q}` : ""));
  const first = view.rawQuery.split("&")[0];
  const forms = new Set<string>();
  for (const path of paths) for (const query of queries) forms.add(`${path}${query}`);
  if (first) forms.add(`${resource}?${first}${queries[0]}`);
  return [...forms];
}

/**
 * What a SigV2 signer signs before the resource: verb, Content-MD5, Content-Type, date, amz headers. With an
 * x-amz-date header S3's text says the Date line is empty (x-amz-date is signed among the amz headers), while its
 * worked example puts x-amz-date's value on the Date line and leaves it out of the amz headers: both verify.
 */
function signedHeads(view: RequestView, query: Record<string, string | string[]>, auth: SigV2Auth): string[] {
  // A presigned URL carries the headers its signer hoisted into the query; a header sent with the request wins.
  const standard = (name: string) =>
    (single(view.headers[name]) ?? (auth.via === "query" ? queryParameterAnyCase(query, name) : undefined) ?? "").trim();
  const head = (date: string, amz: string) =>
    `${[view.method, standard("content-md5"), standard("content-type"), date].join("\n")}\n${amz}`;
  const amzHeaders = canonicalAmzHeaders(view, query, auth);
  if (auth.via === "query") return [head(String(single(query["Expires"])), amzHeaders)];
  const amzDate = single(view.headers["x-amz-date"]);
  if (amzDate === undefined) return [head(single(view.headers["date"]) ?? "", amzHeaders)];
  return [head("", amzHeaders), head(amzDate.trim(), amzHeaders.replace(/^x-amz-date:.*\n/m, ""))];
}

/** The string a SigV2 signer signs for this request, in S3's own form. */
export function sigV2StringToSign(view: RequestView, query: Record<string, string | string[]>, auth: SigV2Auth): string {
  return signedHeads(view, query, auth)[0]! + canonicalResources(view)[0]!;
}

function sign(secretAccessKey: string, stringToSign: string): string {
  return createHmac("sha1", secretAccessKey).update(stringToSign, "utf8").digest("base64");
}

/** Throws SignatureDoesNotMatch unless the request's signature is the one the credentials produce. */
export function verifySigV2(view: RequestView, query: Record<string, string | string[]>, auth: SigV2Auth, secretAccessKey: string): void {
  const resources = canonicalResources(view);
  for (const head of signedHeads(view, query, auth)) {
    for (const resource of resources) if (sameText(sign(secretAccessKey, head + resource), auth.signature)) return;
  }
  throw s3Errors.signatureDoesNotMatch();
}
