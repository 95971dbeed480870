// The received request as the wire carried it (signatures and keys depend on the exact encoding of path and
// query), the query string decoded, and keys written back as URL paths.
import { s3Errors } from "./errors.js";

/** The received request, as the wire carried it. */
export interface RequestView {
  method: string;
  /** The path exactly as received (still percent-encoded), e.g. `/s3/bucket/a%20b.txt`. */
  rawPath: string;
  /** The same after the endpoint's prefix: the resource as S3 names it, e.g. `/bucket/a%20b.txt`. */
  resourcePath: string;
  /** The query string without `?`, as received. */
  rawQuery: string;
  /** The lower-cased request headers; a repeated header has each of its values. */
  headers: Record<string, string | string[] | undefined>;
}

/** The query string decoded (`+` stays `+`, as S3 signs it); repeated names become arrays. */
export function parseQuery(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  if (!rawQuery) return query;
  for (const pair of rawQuery.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeQueryText(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? "" : decodeQueryText(pair.slice(eq + 1));
    const existing = query[name];
    if (existing === undefined) query[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[name] = [existing, value];
  }
  return query;
}

export function decodeQueryText(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw s3Errors.invalidArgument("The query string is not properly percent-encoded.");
  }
}

/** The first value of a header or query parameter. */
export function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A header's value as signers see it: repeated headers joined by commas, absent ones empty. */
export function headerValue(view: RequestView, name: string): string {
  const value = view.headers[name];
  return Array.isArray(value) ? value.join(",") : (value ?? "");
}

export function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A key as a URL path: every segment encoded, the slashes kept. */
export function encodeKey(key: string): string {
  return key.split("/").map(encodeRfc3986).join("/");
}
