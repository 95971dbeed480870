// createHtcClient(): an openapi-fetch client typed with the generated `paths`, whose fetch adds auth,
// retries and timeouts (see transport.ts). Portable: no Node-only APIs.
import createClient, { type Client } from "openapi-fetch";
import { type AuthProvider, bearerTokenAuth, TokenManager } from "./auth.js";
import type { paths } from "@htcemu/openapi/types";
import { resolveRetryPolicy, type RetryOptions } from "./retry.js";
import { createTransport, DEFAULT_TIMEOUT_MS, type FetchFn } from "./transport.js";

export const CLIENT_VERSION = "0.1.0";
export const DEFAULT_USER_AGENT = `htcemu-client/${CLIENT_VERSION}`;

interface CommonOptions {
  /** API base URL, e.g. `https://htc.rescale.com/api/v1` or `http://127.0.0.1:8787/api/v1`. */
  baseUrl: string;
  /** Custom fetch (defaults to globalThis.fetch). */
  fetch?: FetchFn;
  /** Retry policy, or false to disable retries. */
  retry?: RetryOptions | false;
  /**
   * Time budget of each attempt until response headers arrive; a timed-out idempotent request is retried.
   * Default 60 000 ms (a hung connection would otherwise block a pipeline forever); 0 disables it.
   */
  timeoutMs?: number;
  userAgent?: string;
  /** Headers sent with every request (including the token exchange). */
  headers?: Record<string, string>;
  /** Options for the built-in token manager (apiKey / refreshToken). */
  refreshMarginMs?: number | ((lifetimeMs: number) => number);
}

/** At most one way to authenticate (none at all suits the few unauthenticated operations). */
export type HtcCredentialOptions =
  | { apiKey?: string; bearerToken?: never; refreshToken?: never; auth?: never }
  | { bearerToken?: string; apiKey?: never; refreshToken?: never; auth?: never }
  | { refreshToken?: string; apiKey?: never; bearerToken?: never; auth?: never }
  | { auth?: AuthProvider; apiKey?: never; bearerToken?: never; refreshToken?: never };

export type HtcClientOptions = CommonOptions & HtcCredentialOptions;

export interface HtcClient {
  /** The typed openapi-fetch client: `htc.api.GET("/htc/projects/{projectId}", { params: { path: { projectId } } })`. */
  readonly api: Client<paths>;
  /** The base URL without trailing slash. */
  readonly baseUrl: string;
  /** The active auth provider (a TokenManager for apiKey/refreshToken), if any. */
  readonly auth: AuthProvider | undefined;
  /** The wrapped fetch (auth, retries, timeouts) for requests outside the typed surface. */
  readonly fetch: FetchFn;
}

export function createHtcClient(options: HtcClientOptions): HtcClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const retry = resolveRetryPolicy(options.retry);
  const baseFetch: FetchFn = options.fetch ?? ((request) => globalThis.fetch(request));
  const headers: Record<string, string> = { "User-Agent": options.userAgent ?? DEFAULT_USER_AGENT, ...options.headers };
  const plain = createTransport({ fetch: baseFetch, retry, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, baseUrl });

  let auth: AuthProvider | undefined;
  if (options.auth) auth = options.auth;
  else if (options.bearerToken) auth = bearerTokenAuth(options.bearerToken);
  else if (options.apiKey || options.refreshToken) {
    auth = new TokenManager({
      baseUrl,
      credential: options.apiKey ? { apiKey: options.apiKey } : { refreshToken: options.refreshToken ?? "" },
      fetch: plain,
      headers,
      refreshMarginMs: options.refreshMarginMs,
    });
  }

  const fetch = createTransport({ fetch: baseFetch, retry, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, baseUrl, auth });
  const api = createClient<paths>({ baseUrl, fetch, headers });
  return { api, baseUrl, auth, fetch };
}
