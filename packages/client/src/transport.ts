// The transport every client layer shares (the HTC client, its token exchange, the emulator's admin client): the
// fetch function openapi-fetch calls. It buffers the request so it can be replayed, adds the Authorization
// header, retries transient failures, bounds each attempt by a timeout, ends on the caller's abort, and on a 401
// lets the auth provider refresh once.
import type { AuthProvider, AuthRequest } from "./auth.js";
import { rememberRequest } from "./request-info.js";
import { isStreamed, prepareRequest, type ResolvedRetryPolicy, sendWithRetry } from "./retry.js";

export type FetchFn = (request: Request) => Promise<Response>;

/** Per-request choices of a transport call beyond the Request itself. */
export interface TransportCallOptions {
  /**
   * Send the body as a stream, once: it is neither buffered nor retried (uploads of unknown size, such as a
   * snapshot read from a file). Without it the body is buffered so that retries can resend it.
   */
  streamBody?: boolean;
}

/** A FetchFn with the transport's extra per-call options. */
export type Transport = (request: Request, call?: TransportCallOptions) => Promise<Response>;

/** Time budget of each attempt until response headers arrive, unless a client says otherwise. */
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface TransportOptions {
  fetch: FetchFn;
  retry: ResolvedRetryPolicy;
  timeoutMs?: number;
  auth?: AuthProvider;
  /** The API base URL; credentials are only sent to its origin, and paths are computed relative to it. */
  baseUrl: string;
  /** Ends every request of this transport when it aborts (besides each request's own signal), e.g. on Ctrl-C. */
  signal?: AbortSignal;
  random?: () => number;
}

export function createTransport(options: TransportOptions): Transport {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const send = { fetch: options.fetch, retry: options.retry, timeoutMs: options.timeoutMs, random: options.random };

  return async (request: Request, call: TransportCallOptions = {}): Promise<Response> => {
    const prepared = await prepareRequest(request, call);
    if (options.signal) prepared.signal = prepared.signal ? AbortSignal.any([prepared.signal, options.signal]) : options.signal;
    const url = new URL(prepared.url);
    const auth = options.auth;
    // An explicit Authorization header wins; and credentials never leave the API's origin.
    const managed = auth !== undefined && !prepared.headers.has("authorization") && url.origin === base.origin;
    const authRequest: AuthRequest = {
      method: prepared.method,
      url: prepared.url,
      path: relativePath(url.pathname, basePath),
      signal: prepared.signal,
    };

    const authorization = managed ? await auth.authorize(authRequest) : undefined;
    if (authorization) prepared.headers.set("Authorization", authorization);
    let response = await sendWithRetry(prepared, send);

    // A streamed body is gone after the first attempt: the 401 is the answer.
    if (response.status === 401 && managed && authorization && auth.unauthorized && !isStreamed(prepared)) {
      if (await auth.unauthorized({ ...authRequest, authorization })) {
        await response.body?.cancel().catch(() => {});
        const fresh = await auth.authorize(authRequest);
        if (fresh) prepared.headers.set("Authorization", fresh);
        else prepared.headers.delete("Authorization");
        response = await sendWithRetry(prepared, send);
      }
    }
    rememberRequest(response, { method: prepared.method, url: prepared.url });
    return response;
  };
}

function relativePath(pathname: string, basePath: string): string {
  if (basePath && (pathname === basePath || pathname.startsWith(`${basePath}/`))) {
    return pathname.slice(basePath.length) || "/";
  }
  return pathname;
}
