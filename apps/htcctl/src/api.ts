// The HTC API as htcctl needs it: a few GET requests with a bearer token (the storage-token operations) and the
// token exchange at `GET /auth/token`. Plain node:http(s) rather than fetch: a job runs htcctl once or a few
// times, and loading fetch's implementation costs more CPU than the requests themselves (~20 ms per process).
// Transient answers (429, 502, 503, 504, network errors) are retried with backoff; a 401 renews the token once.
import http from "node:http";
import https from "node:https";

export const USER_AGENT = "htcctl/0.1.0 (htc-emulator)";
const RETRY_STATUSES = new Set([429, 502, 503, 504]);
const ATTEMPTS = 4;
const TIMEOUT_MS = 60_000;

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One GET, its body read as text. */
export function httpGet(url: URL, headers: Record<string, string>): Promise<Answer> {
  const client = url.protocol === "https:" ? https : url.protocol === "http:" ? http : undefined;
  if (!client) return Promise.reject(new Error(`unsupported URL ${url.href}`));
  return new Promise((resolve, reject) => {
    const request = client.get(
      url,
      { headers: { "User-Agent": USER_AGENT, Accept: "application/json", ...headers }, timeout: TIMEOUT_MS },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? "", headers: response.headers, text }),
        );
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    request.on("error", reject);
  });
}

/** "GET <url> failed with 403 Forbidden: errorType: description", from the API's error bodies. */
function failure(url: URL, answer: Answer): ApiError {
  let detail = answer.text.trim().slice(0, 300);
  try {
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    detail = [body["errorType"] ?? body["error"], body["errorDescription"] ?? body["error_description"] ?? body["message"]]
      .filter(Boolean)
      .join(": ");
  } catch {}
  return new ApiError(
    answer.status,
    `GET ${url.href} failed with ${answer.status}${answer.statusText ? ` ${answer.statusText}` : ""}${detail ? `: ${detail}` : ""}`,
  );
}

function backoff(attempt: number, retryAfter: string | string[] | undefined): number {
  const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 30_000);
  return 250 * 2 ** attempt * (0.5 + Math.random() / 2);
}

/** GET with retries of transient failures. */
async function getWithRetries(url: URL, headers: Record<string, string>): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    let answer: Answer;
    try {
      answer = await httpGet(url, headers);
    } catch (error) {
      if (attempt + 1 >= ATTEMPTS) throw new Error(`GET ${url.href} failed: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, backoff(attempt, undefined)));
      continue;
    }
    if (!RETRY_STATUSES.has(answer.status) || attempt + 1 >= ATTEMPTS) return answer;
    await new Promise((r) => setTimeout(r, backoff(attempt, answer.headers["retry-after"])));
  }
}

/** Seconds since the epoch at which a JWT expires, if it says. */
export function jwtExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: unknown };
    return typeof payload.exp === "number" ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

/** Exchanges a credential (`Token <apiKey>` or `Refresh <refreshToken>`) for a bearer token. */
export async function exchangeToken(baseUrl: string, credential: string): Promise<string> {
  const url = new URL(`${baseUrl}/auth/token`);
  const answer = await getWithRetries(url, { Authorization: credential });
  if (answer.status !== 200) throw failure(url, answer);
  const body = JSON.parse(answer.text) as { tokenValue?: unknown };
  if (typeof body.tokenValue !== "string") throw new Error(`GET ${url.href} returned no tokenValue`);
  return body.tokenValue;
}

/** Where bearer tokens come from. */
export interface Auth {
  /** The bearer token to send now. */
  bearer(): Promise<string>;
  /** The API refused `rejected` (401): get another one, or false when there is no way to. */
  renew(rejected: string): Promise<boolean>;
}

/**
 * Inside a job: the injected bearer token until it expires (by its `exp` on this machine's clock, or a 401 from the
 * API), then tokens exchanged for the refresh token. Without a refresh token an expired bearer token is final.
 */
export class JobTokenAuth implements Auth {
  private current: string;
  private renewing: Promise<void> | undefined;
  private readonly expired: boolean;

  constructor(
    bearer: string,
    private readonly exchange: (() => Promise<string>) | undefined,
    now: () => number = Date.now,
  ) {
    this.current = bearer;
    const exp = jwtExpiry(bearer);
    this.expired = exchange !== undefined && exp !== undefined && exp * 1000 <= now() + 30_000;
    if (this.expired) this.renewing = this.replace();
  }

  async bearer(): Promise<string> {
    await this.renewing;
    return this.current;
  }

  async renew(rejected: string): Promise<boolean> {
    if (!this.exchange) return false;
    // Another request has replaced the rejected token already (or is doing it).
    if (rejected === this.current && !this.renewing) this.renewing = this.replace();
    await this.renewing;
    return true;
  }

  private async replace(): Promise<void> {
    this.current = await this.exchange!();
  }
}

/** Outside jobs: bearer tokens exchanged for an API key (or a refresh token), renewed when refused. */
export class ExchangedAuth implements Auth {
  private current: Promise<string> | undefined;

  constructor(private readonly exchange: () => Promise<string>) {}

  bearer(): Promise<string> {
    this.current ??= this.exchange();
    return this.current;
  }

  async renew(rejected: string): Promise<boolean> {
    if ((await this.current) === rejected) this.current = this.exchange();
    return true;
  }
}

export interface Json<T> {
  body: T;
  /** The server's clock (the Date header), ms since the epoch. */
  serverDate: number | undefined;
}

/** A GET of the API with the bearer token: JSON back, or an ApiError. */
export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly auth: Auth,
  ) {}

  async get<T>(path: string): Promise<Json<T>> {
    const url = new URL(`${this.baseUrl}${path}`);
    let token = await this.auth.bearer();
    let answer = await getWithRetries(url, { Authorization: `Bearer ${token}` });
    if (answer.status === 401 && (await this.auth.renew(token))) {
      token = await this.auth.bearer();
      answer = await getWithRetries(url, { Authorization: `Bearer ${token}` });
    }
    if (answer.status !== 200) throw failure(url, answer);
    const date = Date.parse(String(answer.headers.date ?? ""));
    return { body: JSON.parse(answer.text) as T, serverDate: Number.isFinite(date) ? date : undefined };
  }
}
