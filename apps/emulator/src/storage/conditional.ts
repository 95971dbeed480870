// Conditional requests: If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since on GetObject and
// HeadObject, evaluated against the stored object the way S3 does (RFC 7232 with S3's precedence: a matching
// If-Match overrides a failing If-Unmodified-Since, a present If-None-Match overrides If-Modified-Since).
// Dates have one-second resolution, as in Last-Modified; a date that does not parse is ignored.
import { s3Errors } from "./errors.js";
import { normalizeEtag } from "./service.js";

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
  const modified = lastModifiedSeconds(row);
  const ifMatch = get("if-match");
  const ifNoneMatch = get("if-none-match");
  const ifModifiedSince = get("if-modified-since");
  const ifUnmodifiedSince = get("if-unmodified-since");
  if (ifMatch !== undefined && !etagMatches(ifMatch, row.etag)) throw s3Errors.preconditionFailed("If-Match");
  if (ifMatch === undefined && ifUnmodifiedSince !== undefined && modified > Date.parse(ifUnmodifiedSince)) {
    throw s3Errors.preconditionFailed("If-Unmodified-Since");
  }
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, row.etag)) return 304;
  if (ifNoneMatch === undefined && ifModifiedSince !== undefined && modified <= Date.parse(ifModifiedSince)) return 304;
  return undefined;
}
