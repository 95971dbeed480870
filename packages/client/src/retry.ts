// Retries with exponential backoff and jitter, honouring Retry-After, plus a per-attempt timeout.
// Only idempotent methods are retried by default: replaying a POST (e.g. a job submission) could
// duplicate work on the server.
import { sleep } from "./abort.js";
import { HtcNetworkError, HtcTimeoutError, type HtcRequestInfo } from "./errors.js";

export interface RetryOptions {
  /** Extra attempts after the first one. Default 3. */
  retries?: number;
  /** Backoff base for the first retry; doubles each time. Default 500 ms. */
  minDelayMs?: number;
  /** Upper bound of the computed backoff. Default 20 000 ms. */
  maxDelayMs?: number;
  /** Longest Retry-After the client is willing to wait; a longer one ends retrying. Default 60 000 ms. */
  maxRetryAfterMs?: number;
  /** Statuses that are retried. Default 429, 502, 503, 504. */
  statuses?: readonly number[];
  /** Methods that are retried. Default GET, HEAD, PUT, DELETE, OPTIONS (add "POST" to opt in). */
  methods?: readonly string[];
}

export type ResolvedRetryPolicy = Required<RetryOptions>;

export const DEFAULT_RETRY: ResolvedRetryPolicy = Object.freeze({
  retries: 3,
  minDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
  statuses: Object.freeze([429, 502, 503, 504]),
  methods: Object.freeze(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]),
});

export function resolveRetryPolicy(options: RetryOptions | false | undefined): ResolvedRetryPolicy {
  if (options === false) return { ...DEFAULT_RETRY, retries: 0 };
  const merged = { ...DEFAULT_RETRY, ...stripUndefined(options ?? {}) };
  return { ...merged, methods: merged.methods.map((m) => m.toUpperCase()) };
}

/**
 * A request in replayable form: the body is buffered once so every attempt can resend it. A streamed body (an
 * upload of unknown size) is sent once as it comes: never buffered, never retried.
 */
export interface PreparedRequest {
  url: string;
  method: string;
  headers: Headers;
  body: ArrayBuffer | ReadableStream<Uint8Array> | undefined;
  redirect: Request["redirect"];
  /** The caller's signal; aborting it ends everything, including waits between attempts. */
  signal: AbortSignal | undefined;
}

export async function prepareRequest(request: Request, options: { streamBody?: boolean } = {}): Promise<PreparedRequest> {
  const body = request.body === null ? undefined : options.streamBody ? request.body : await request.arrayBuffer();
  return {
    url: request.url,
    method: request.method.toUpperCase(),
    headers: new Headers(request.headers),
    body,
    redirect: request.redirect,
    signal: request.signal,
  };
}

export interface SendOptions {
  fetch: (request: Request) => Promise<Response>;
  retry: ResolvedRetryPolicy;
  /** Per-attempt budget until the response headers arrive. */
  timeoutMs: number | undefined;
  /** Source of jitter; injectable for tests. */
  random?: () => number;
}

/** Sends `req`, retrying transient failures; returns the last response or throws the last error. */
export async function sendWithRetry(req: PreparedRequest, opts: SendOptions): Promise<Response> {
  const info: HtcRequestInfo = { method: req.method, url: req.url };
  const retryable = opts.retry.methods.includes(req.method) && !isStreamed(req);
  for (let attempt = 0; ; attempt++) {
    const canRetry = retryable && attempt < opts.retry.retries;
    let response: Response;
    try {
      response = await attemptOnce(req, opts, info);
    } catch (error) {
      if (req.signal?.aborted || !canRetry) throw error;
      await sleep(backoffDelay(attempt, opts.retry, opts.random), req.signal);
      continue;
    }
    if (!canRetry || !opts.retry.statuses.includes(response.status)) return response;
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
    if (retryAfter !== undefined && retryAfter > opts.retry.maxRetryAfterMs) return response;
    await response.body?.cancel().catch(() => {});
    await sleep(retryAfter ?? backoffDelay(attempt, opts.retry, opts.random), req.signal);
  }
}

async function attemptOnce(req: PreparedRequest, opts: SendOptions, info: HtcRequestInfo): Promise<Response> {
  // One controller per attempt, fed by the caller's signal and the timer. The fetch is also raced against
  // it: a custom fetch may ignore signals, and Node 20's fetch can lose an abort when the internal
  // controller behind a Request is garbage-collected mid-flight.
  const controller = new AbortController();
  let timedOut = false;
  const onCallerAbort = () => controller.abort(req.signal?.reason);
  req.signal?.addEventListener("abort", onCallerAbort, { once: true });
  const timer =
    opts.timeoutMs !== undefined && opts.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, opts.timeoutMs)
      : undefined;
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
  });
  let pending: Promise<Response> | undefined;
  try {
    if (req.signal?.aborted) throw req.signal.reason;
    const init: RequestInit & { duplex?: "half" } = {
      method: req.method,
      headers: req.headers,
      body: req.body instanceof ArrayBuffer ? req.body.slice(0) : req.body,
      redirect: req.redirect,
      signal: controller.signal,
    };
    // A stream body needs half duplex in fetch implementations that stream uploads (Node's undici).
    if (isStreamed(req)) init.duplex = "half";
    pending = opts.fetch(new Request(req.url, init));
    return await Promise.race([pending, aborted]);
  } catch (error) {
    // If the abort won the race, release whatever the fetch still delivers.
    pending?.then(
      (late) => late.body?.cancel().catch(() => {}),
      () => {},
    );
    if (req.signal?.aborted) throw req.signal.reason;
    if (timedOut) {
      throw new HtcTimeoutError(`${info.method} ${info.url} timed out after ${opts.timeoutMs} ms`, opts.timeoutMs ?? 0, info);
    }
    throw new HtcNetworkError(info, error);
  } finally {
    if (timer) clearTimeout(timer);
    req.signal?.removeEventListener("abort", onCallerAbort);
  }
}

/** Whether the body is sent as a stream (once) rather than from a buffer. */
export function isStreamed(req: PreparedRequest): boolean {
  return req.body !== undefined && !(req.body instanceof ArrayBuffer);
}

/** Exponential backoff with "equal jitter": half fixed, half random, so retries of many clients spread out. */
export function backoffDelay(attempt: number, policy: ResolvedRetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Retry-After as milliseconds: either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
