// Where the caller reaches this emulator: the origin of `next` links, storage endpoint URLs and S3 `Location`s.
import { S3_PREFIX } from "../storage/layout.js";
import type { AppContext } from "./env.js";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The host name of a `Host` header value (`name:port`, `[v6]:port`), lower-cased. */
function hostName(host: string): string {
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]!;
  return name.toLowerCase();
}

/**
 * The origin for a request. `fixed` (from --public-url) wins, except where it names this machine's loopback and
 * the caller came by another name: a job container on Docker Desktop's bridge reaches a published port as
 * `host.docker.internal`, and `localhost` in the storage endpoint it is given would be its own container. Without
 * a fixed origin, the forwarded headers of a reverse proxy, else the Host header, say what the caller used.
 */
export function originFor(fixed: string | undefined, host: string | undefined, proto: string, fallback: string): string {
  if (fixed && !(host && LOOPBACK_HOSTS.has(hostName(new URL(fixed).host)) && !LOOPBACK_HOSTS.has(hostName(host)))) return fixed;
  return host ? `${proto}://${host}` : fallback;
}

/** The origin (scheme://host[:port]) clients reach this emulator at, as seen by the current request. */
export function publicOrigin(c: AppContext): string {
  const host = c.req.header("x-forwarded-host") ?? c.req.header("host");
  const url = new URL(c.req.url);
  const proto = c.req.header("x-forwarded-proto") ?? url.protocol.replace(":", "");
  return originFor(c.get("core").urls.fixedOrigin, host, proto, url.origin);
}

/** The S3-compatible endpoint as the caller reaches it. */
export function storageEndpointUrl(c: AppContext): string {
  return `${publicOrigin(c)}${S3_PREFIX}`;
}
