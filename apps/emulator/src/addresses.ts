// Where the emulator is reached, and by whom. Three audiences see it at different addresses:
//   - clients: the root URL the emulator advertises (links, storage endpoints, the banner): --public-url when
//     given (a proxy, or Docker Desktop's published port), else the address it listens on, where an unspecified
//     address (0.0.0.0, ::) becomes 127.0.0.1;
//   - the registry beside it (token realm, notifications): always loopback, whatever is advertised;
//   - job containers: the client URL with a loopback host replaced by the name containers give the emulator's
//     host (127.0.0.1 on the host network; host.docker.internal on a bridge, e.g. Docker Desktop's).
// Pure functions: the choices for Docker Desktop are unit-tested on machines without it.
import { API_PREFIX } from "./http/contracts.js";

export interface ListenAddress {
  /** The interface the server listens on (the --host option). */
  host: string;
  /** The port it got. */
  port: number;
  /** --public-url, if given. */
  publicUrl?: string;
}

export interface Addresses {
  /** What clients are told: `http://127.0.0.1:8787`, or the public URL without trailing slashes. */
  rootUrl: string;
  /** `rootUrl` + `/api/v1`. */
  baseUrl: string;
  /** How processes on this machine (the registry) reach the server, on loopback. */
  loopbackOrigin: string;
}

const UNSPECIFIED = new Set(["0.0.0.0", "::", "[::]"]);
const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost"]);

/** `[::1]` for IPv6 literals, the name or IPv4 address as it is. */
function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

export function addressesOf({ host, port, publicUrl }: ListenAddress): Addresses {
  const listening = UNSPECIFIED.has(host) ? "127.0.0.1" : urlHost(host);
  const rootUrl = publicUrl?.replace(/\/+$/, "") ?? `http://${listening}:${port}`;
  const loopbackHost = UNSPECIFIED.has(host) || host === "localhost" ? "127.0.0.1" : listening;
  return { rootUrl, baseUrl: `${rootUrl}${API_PREFIX}`, loopbackOrigin: `http://${loopbackHost}:${port}` };
}

/**
 * The API URL injected into jobs: the client URL, with a loopback host replaced by `hostForContainers` (what the
 * executor says its containers call the emulator's host). A public URL on another host is kept: jobs use it too.
 */
export function apiUrlForJobs(rootUrl: string, hostForContainers: string): string {
  const url = new URL(rootUrl);
  if (LOOPBACK_NAMES.has(url.hostname)) url.hostname = hostForContainers;
  return `${url.origin}${API_PREFIX}`;
}
