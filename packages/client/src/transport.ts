// The fetch function openapi-fetch calls: buffers the request so it can be replayed, adds the
// Authorization header, retries transient failures, and on a 401 lets the auth provider refresh once.
import type { AuthProvider, AuthRequest } from "./auth.js";
import { rememberRequest } from "./request-info.js";
import { prepareRequest, type ResolvedRetryPolicy, sendWithRetry } from "./retry.js";

export type FetchFn = (request: Request) => Promise<Response>;

export interface TransportOptions {
  fetch: FetchFn;
  retry: ResolvedRetryPolicy;
  timeoutMs?: number;
  auth?: AuthProvider;
  /** The API base URL; credentials are only sent to its origin, and paths are computed relative to it. */
  baseUrl: string;
  random?: () => number;
}

export function createTransport(options: TransportOptions): FetchFn {
  const base = new URL(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const send = { fetch: options.fetch, retry: options.retry, timeoutMs: options.timeoutMs, random: options.random };

  return async (request: Request): Promise<Response> => {
    const prepared = await prepareRequest(request);
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

    if (response.status === 401 && managed && authorization && auth.unauthorized) {
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
