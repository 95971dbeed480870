// Conditional requests, evaluated against the stored object the way S3 does:
// - reads (GetObject, HeadObject): If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since (RFC 7232 with
//   S3's precedence: a matching If-Match overrides a failing If-Unmodified-Since, a present If-None-Match
//   overrides If-Modified-Since); a current copy is 304, a failed precondition 412;
// - copies (CopyObject, UploadPartCopy): the same four as x-amz-copy-source-if-*, on the source; any failure 412;
// - writes (PutObject, CompleteMultipartUpload): If-None-Match: * (only if no object has the key) and If-Match
//   (only if the object has this ETag; 404 when there is none), checked when the object is committed, so two
//   writers racing for one key cannot both win.
// Dates have one-second resolution, as in Last-Modified; a date that does not parse is ignored.
import { s3Errors } from "./errors.js";
import { normalizeEtag } from "./etags.js";

/** The part of a stored object the conditions look at. */
export interface Validators {
  etag: string;
  /** Milliseconds since the epoch. */
  last_modified: number;
}

/** The request's conditional headers, by lower-case name. */
export type HeaderLookup = (name: string) => string | undefined;

function etagMatches(list: string, etag: string): boolean {
  const wanted = normalizeEtag(etag);
  return list.split(",").some((e) => e.trim() === "*" || normalizeEtag(e) === wanted);
}

/** Last-Modified as the client saw it (whole seconds). */
function lastModifiedSeconds(row: Validators): number {
  return Math.floor(row.last_modified / 1000) * 1000;
}

/**
 * GetObject/HeadObject: throws PreconditionFailed (412) when If-Match or If-Unmodified-Since fails; returns 304
 * when If-None-Match or If-Modified-Since says the client's copy is current; undefined when the object is sent.
 */
export function readConditions(get: HeaderLookup, row: Validators): 304 | undefined {
  const failed = evaluate(get, "", row);
  if (failed === undefined) return undefined;
  if (failed === "If-None-Match" || failed === "If-Modified-Since") return 304;
  throw s3Errors.preconditionFailed(failed);
}

/** CopyObject and UploadPartCopy: throws PreconditionFailed unless the source meets its x-amz-copy-source-if-*. */
export function copySourceConditions(get: HeaderLookup, source: Validators): void {
  const failed = evaluate(get, "x-amz-copy-source-", source);
  if (failed !== undefined) throw s3Errors.preconditionFailed(`x-amz-copy-source-${failed}`);
}

/** The first of the four conditions (under `prefix`) that fails, by S3's precedence; undefined when all hold. */
function evaluate(
  get: HeaderLookup,
  prefix: string,
  row: Validators,
): "If-Match" | "If-Unmodified-Since" | "If-None-Match" | "If-Modified-Since" | undefined {
  const modified = lastModifiedSeconds(row);
  const ifMatch = get(`${prefix}if-match`);
  const ifNoneMatch = get(`${prefix}if-none-match`);
  const ifModifiedSince = get(`${prefix}if-modified-since`);
  const ifUnmodifiedSince = get(`${prefix}if-unmodified-since`);
  if (ifMatch !== undefined && !etagMatches(ifMatch, row.etag)) return "If-Match";
  if (ifMatch === undefined && ifUnmodifiedSince !== undefined && modified > Date.parse(ifUnmodifiedSince)) return "If-Unmodified-Since";
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, row.etag)) return "If-None-Match";
  if (ifNoneMatch === undefined && ifModifiedSince !== undefined && modified <= Date.parse(ifModifiedSince)) return "If-Modified-Since";
  return undefined;
}

/** What a write requires of the object it replaces; checked against the current object at commit. */
export type WritePrecondition = (current: Validators | undefined) => void;

/**
 * PutObject and CompleteMultipartUpload: the precondition of If-None-Match (only `*` is defined for writes) and
 * If-Match; undefined when the request has neither.
 */
export function writePrecondition(get: HeaderLookup, key: string): WritePrecondition | undefined {
  const ifMatch = get("if-match");
  const ifNoneMatch = get("if-none-match");
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== "*")
    throw s3Errors.notImplemented(`If-None-Match: ${ifNoneMatch} on a write (only * is supported)`);
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  return (current) => {
    if (ifNoneMatch !== undefined && current) throw s3Errors.preconditionFailed("If-None-Match");
    if (ifMatch !== undefined) {
      if (!current) throw s3Errors.noSuchKey(key);
      if (!etagMatches(ifMatch, current.etag)) throw s3Errors.preconditionFailed("If-Match");
    }
  };
}
