// Authentication: which Authorization header each request carries, and the API-key → bearer exchange.
// The exchange follows the API: `GET /auth/token` with `Token <apiKey>` (or `Refresh <token>`) returns
// {tokenValue, expiresIn}; every other request carries `Bearer <tokenValue>`.
import { raceAbort } from "./abort.js";
import { HtcApiError, HtcError } from "./errors.js";

/** What an auth provider knows about the request it authorises. */
export interface AuthRequest {
  method: string;
  url: string;
  /** The path relative to the API base URL, e.g. `/htc/projects` or `/auth/token`. */
  path: string;
  signal?: AbortSignal;
}

/** Plug-in point for credentials. Implement it to bring your own token source. */
export interface AuthProvider {
  /** The Authorization header value for this request, or undefined to send none. */
  authorize(request: AuthRequest): Promise<string | undefined> | string | undefined;
  /**
   * Called once when a request sent with `authorization` came back 401. Resolve true to have the request
   * replayed once with a fresh `authorize()` result; false makes the 401 final.
   */
  unauthorized?(request: AuthRequest & { authorization: string }): Promise<boolean> | boolean;
}

/** Paths that authenticate with the Rescale credential itself rather than a bearer token. */
export function isKeyAuthPath(path: string): boolean {
  return path === "/auth/token" || path === "/auth/whoami";
}

/** A ready bearer token (e.g. `RESCALE_HTC_BEARER_TOKEN` inside a job): no exchange, so a 401 is final. */
export function bearerTokenAuth(token: string): AuthProvider {
  return { authorize: () => `Bearer ${token}` };
}

export type RescaleCredential = { apiKey: string } | { refreshToken: string };

export interface TokenManagerOptions {
  /** The API base URL, e.g. `https://htc.rescale.com/api/v1`. */
  baseUrl: string;
  credential: RescaleCredential;
  /** Sends the exchange request; the client passes its retrying transport (without auth). */
  fetch?: (request: Request) => Promise<Response>;
  /** Renew this long before the deadline. Default: 10% of the token's lifetime, at most 5 minutes. */
  refreshMarginMs?: number | ((lifetimeMs: number) => number);
  /** Extra headers for the exchange (e.g. X-Rescale-Environment). */
  headers?: ConstructorParameters<typeof Headers>[0];
  /** Clock, injectable for tests. */
  now?: () => number;
}

export interface CachedToken {
  tokenValue: string;
  /** Epoch ms after which the server no longer accepts the token (request start + expiresIn). */
  expiresAt: number;
  /** Epoch ms from which the manager renews it. */
  refreshAt: number;
}

const MAX_DEFAULT_MARGIN_MS = 5 * 60_000;

export function defaultRefreshMargin(lifetimeMs: number): number {
  return Math.min(lifetimeMs * 0.1, MAX_DEFAULT_MARGIN_MS);
}

/**
 * Exchanges a Rescale API key (or refresh token) for bearer tokens, caches the token, renews it shortly
 * before it expires, and runs at most one exchange at a time however many requests need a token.
 */
export class TokenManager implements AuthProvider {
  private readonly tokenUrl: string;
  private readonly credentialHeader: string;
  private readonly fetchImpl: (request: Request) => Promise<Response>;
  private readonly now: () => number;
  private current: CachedToken | undefined;
  private inflight: Promise<CachedToken> | undefined;

  constructor(private readonly options: TokenManagerOptions) {
    this.tokenUrl = `${options.baseUrl.replace(/\/+$/, "")}/auth/token`;
    this.credentialHeader =
      "apiKey" in options.credential ? `Token ${options.credential.apiKey}` : `Refresh ${options.credential.refreshToken}`;
    this.fetchImpl = options.fetch ?? ((r) => globalThis.fetch(r));
    this.now = options.now ?? Date.now;
  }

  /** The cached token, if any (it may be due for renewal). */
  get token(): CachedToken | undefined {
    return this.current;
  }

  /** A bearer token that is not yet due for renewal, exchanging the credential when needed. */
  async getToken(options: { signal?: AbortSignal } = {}): Promise<string> {
    const cached = this.current;
    const now = this.now();
    if (cached && now < cached.refreshAt) return cached.tokenValue;
    try {
      return (await raceAbort(this.refresh(), options.signal)).tokenValue;
    } catch (error) {
      // A failed early renewal must not break requests while the old token is still accepted.
      if (cached && cached === this.current && this.now() < cached.expiresAt && !options.signal?.aborted) {
        return cached.tokenValue;
      }
      throw error;
    }
  }

  /** Starts (or joins) an exchange. Concurrent callers share one request. */
  refresh(): Promise<CachedToken> {
    this.inflight ??= this.exchange().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** Forgets `tokenValue` if it is still the cached one (the server rejected it). */
  invalidate(tokenValue?: string): void {
    if (tokenValue === undefined || this.current?.tokenValue === tokenValue) this.current = undefined;
  }

  async authorize(request: AuthRequest): Promise<string> {
    if (isKeyAuthPath(request.path)) return this.credentialHeader;
    return `Bearer ${await this.getToken({ signal: request.signal })}`;
  }

  unauthorized(request: AuthRequest & { authorization: string }): boolean {
    // A rejected API key will not get better by exchanging it again.
    if (isKeyAuthPath(request.path) || !request.authorization.startsWith("Bearer ")) return false;
    this.invalidate(request.authorization.slice("Bearer ".length));
    return true;
  }

  private async exchange(): Promise<CachedToken> {
    const startedAt = this.now();
    const headers = new Headers(this.options.headers);
    headers.set("Authorization", this.credentialHeader);
    headers.set("Accept", "application/json");
    const response = await this.fetchImpl(new Request(this.tokenUrl, { method: "GET", headers }));
    const request = { method: "GET", url: this.tokenUrl };
    if (!response.ok) throw await HtcApiError.fromResponse(response, request);
    const body = (await response.json().catch(() => undefined)) as { tokenValue?: unknown; expiresIn?: unknown } | undefined;
    if (typeof body?.tokenValue !== "string" || typeof body.expiresIn !== "number" || !(body.expiresIn > 0)) {
      throw new HtcError("UNEXPECTED_RESPONSE", `GET ${this.tokenUrl} returned no usable {tokenValue, expiresIn}`);
    }
    const lifetimeMs = body.expiresIn * 1000;
    const margin = this.options.refreshMarginMs;
    const marginMs = typeof margin === "function" ? margin(lifetimeMs) : (margin ?? defaultRefreshMargin(lifetimeMs));
    const token: CachedToken = {
      tokenValue: body.tokenValue,
      expiresAt: startedAt + lifetimeMs,
      refreshAt: startedAt + lifetimeMs - Math.min(Math.max(0, marginMs), lifetimeMs),
    };
    this.current = token;
    return token;
  }
}
