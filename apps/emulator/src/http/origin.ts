// Where the caller reaches this emulator: the origin of `next` links, storage endpoint URLs and S3 `Location`s.
import { S3_PREFIX } from "../storage/layout.js";
import type { AppContext } from "./env.js";

/** The origin (scheme://host[:port]) clients reach this emulator at, as seen by the current request. */
export function publicOrigin(c: AppContext): string {
  const fixed = c.get("core").urls.fixedOrigin;
  if (fixed) return fixed;
  // Behind a reverse proxy the forwarded headers say what the client used.
  const host = c.req.header("x-forwarded-host") ?? c.req.header("host");
  const proto = c.req.header("x-forwarded-proto") ?? new URL(c.req.url).protocol.replace(":", "");
  return host ? `${proto}://${host}` : new URL(c.req.url).origin;
}

/** The S3-compatible endpoint as the caller reaches it. */
export function storageEndpointUrl(c: AppContext): string {
  return `${publicOrigin(c)}${S3_PREFIX}`;
}
