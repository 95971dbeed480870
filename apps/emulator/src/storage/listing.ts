// Listings: ListBuckets (the credentials' one bucket) and ListObjects V1 and V2 of a bucket (prefix, delimiter,
// max-keys, markers and continuation tokens, URL encoding), limited to the credentials' folder.
import { checkListAccess } from "./scope.js";
import { s3Errors } from "./errors.js";
import { encodeKey } from "./request-view.js";
import { one, type S3Request, xml } from "./s3-request.js";
import { xmlTime } from "./xml.js";

/** ListBuckets: the one bucket the credentials address, created with their project. */
export function listBuckets(r: S3Request, projectCreatedAt: number): Response {
  const { access } = r;
  return xml(r, "ListAllMyBucketsResult", {
    Owner: { ID: access.scope.userId, DisplayName: access.scope.userId },
    Buckets: { Bucket: [{ Name: access.bucket, CreationDate: xmlTime(projectCreatedAt) }] },
  });
}

/** Continuation tokens are opaque to clients: the key to start from, and whether it is included. */
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

export function listObjects(r: S3Request, bucket: string, v2: boolean): Response {
  const prefix = one(r.query, "prefix") ?? "";
  const delimiter = one(r.query, "delimiter") ?? "";
  const encodingType = one(r.query, "encoding-type");
  if (encodingType !== undefined && encodingType !== "url")
    throw s3Errors.invalidArgument("Invalid Encoding Method specified in Request", "encoding-type", encodingType);
  const maxKeysText = one(r.query, "max-keys");
  if (maxKeysText !== undefined && !/^\d+$/.test(maxKeysText))
    throw s3Errors.invalidArgument("Provided max-keys not an integer or within integer range", "max-keys", maxKeysText);
  const maxKeys = Math.min(maxKeysText === undefined ? 1000 : Number(maxKeysText), 1000);
  checkListAccess(r.access, bucket, prefix);

  const continuation = v2 ? one(r.query, "continuation-token") : undefined;
  const startAfter = v2 ? one(r.query, "start-after") : one(r.query, "marker");
  const start = continuation !== undefined ? decodeToken(continuation) : startAfter ? { value: startAfter, inclusive: false } : undefined;
  const result = r.storage.list({ bucket, prefix, delimiter, maxKeys, start, within: r.access.prefix });
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
