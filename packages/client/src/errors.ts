// One small error hierarchy: everything the client throws on purpose is an HtcError, so callers can tell
// "the API said no" (HtcApiError) from "we never got an answer" (HtcNetworkError, HtcTimeoutError).
import { type HtcRequestInfo, requestInfoOf } from "./request-info.js";

export type { HtcRequestInfo } from "./request-info.js";

/** Machine-readable reason of a plain HtcError (subclasses carry richer data). */
export type HtcErrorCode =
  | "API"
  | "NETWORK"
  | "TIMEOUT"
  | "SUBMIT"
  | "PAGINATION_LOOP"
  | "COLLECT_LIMIT"
  | "UNEXPECTED_RESPONSE"
  | "CONFIG";

export class HtcError extends Error {
  override name = "HtcError";
  readonly code: HtcErrorCode;

  constructor(code: HtcErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** The server answered with a non-2xx status. */
export class HtcApiError extends HtcError {
  override name = "HtcApiError";
  readonly status: number;
  /** `errorType` of an HTCRequestError, or `error` of an OAuth2ErrorResponse; undefined for an empty body. */
  readonly errorType: string | undefined;
  readonly errorDescription: string | undefined;
  /** The `message` field of an HTCRequestError (extra detail; Error#message is the composed summary). */
  readonly serverMessage: string | null | undefined;
  /** The raw body: parsed JSON when it was JSON, otherwise the text (undefined when empty). */
  readonly body: unknown;
  readonly request: HtcRequestInfo;

  constructor(init: { status: number; statusText?: string; body: unknown; request: HtcRequestInfo }) {
    const parsed = parseErrorBody(init.body);
    super("API", composeMessage(init.status, init.statusText, parsed, init.request));
    this.status = init.status;
    this.errorType = parsed.errorType;
    this.errorDescription = parsed.errorDescription;
    this.serverMessage = parsed.serverMessage;
    this.body = init.body === "" ? undefined : init.body;
    this.request = init.request;
  }

  /** Reads the body of `response` (once) and builds the error from it. */
  static async fromResponse(response: Response, request?: HtcRequestInfo): Promise<HtcApiError> {
    const text = await response.text().catch(() => "");
    return new HtcApiError({
      status: response.status,
      statusText: response.statusText,
      body: parseMaybeJson(text),
      request: request ?? requestInfoOf(response),
    });
  }
}

/** The request never produced a response (connection refused, reset, DNS…). */
export class HtcNetworkError extends HtcError {
  override name = "HtcNetworkError";
  readonly request: HtcRequestInfo;

  constructor(request: HtcRequestInfo, cause: unknown) {
    super("NETWORK", `${request.method} ${request.url} failed: ${describe(cause)}`, { cause });
    this.request = request;
  }
}

/** A request attempt or a wait exceeded its time budget. */
export class HtcTimeoutError extends HtcError {
  override name = "HtcTimeoutError";
  readonly timeoutMs: number;
  readonly request: HtcRequestInfo | undefined;

  constructor(message: string, timeoutMs: number, request?: HtcRequestInfo) {
    super("TIMEOUT", message, {});
    this.timeoutMs = timeoutMs;
    this.request = request;
  }
}

interface ParsedErrorBody {
  errorType?: string;
  errorDescription?: string;
  serverMessage?: string | null;
}

/**
 * Understands both error bodies of the API: HTCRequestError {errorType, errorDescription, message} and
 * OAuth2ErrorResponse {error, errorDescription}; also the image-404 variant {error, message}.
 */
export function parseErrorBody(body: unknown): ParsedErrorBody {
  if (typeof body === "string") return body.trim() ? { errorDescription: body.trim().slice(0, 500) } : {};
  if (!body || typeof body !== "object") return {};
  const b = body as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const errorType = str(b["errorType"]) ?? str(b["error"]);
  const serverMessage = typeof b["message"] === "string" || b["message"] === null ? (b["message"] as string | null) : undefined;
  const errorDescription = str(b["errorDescription"]) ?? str(b["error_description"]) ?? serverMessage ?? undefined;
  return { errorType, errorDescription, serverMessage };
}

function composeMessage(status: number, statusText: string | undefined, p: ParsedErrorBody, req: HtcRequestInfo): string {
  let msg = `${req.method} ${req.url} failed with ${status}${statusText ? ` ${statusText}` : ""}`;
  const what = [p.errorType, p.errorDescription].filter(Boolean).join(": ");
  if (what) msg += `: ${what}`;
  if (p.serverMessage && p.serverMessage !== p.errorDescription) msg += ` (${p.serverMessage})`;
  return msg;
}

export function parseMaybeJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause;
    return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message;
  }
  return String(cause);
}

type ResultLike = { data?: unknown; error?: unknown; response: Response };

/**
 * Turns an openapi-fetch result `{data, error, response}` into its data, or throws HtcApiError.
 * Accepts the promise directly: `const project = await unwrap(htc.api.GET(...))`.
 */
export async function unwrap<R extends ResultLike>(result: R | Promise<R>): Promise<NonNullable<R["data"]>> {
  const { data, error, response } = await result;
  if (error !== undefined || !response.ok) {
    throw new HtcApiError({
      status: response.status,
      statusText: response.statusText,
      body: error,
      request: requestInfoOf(response),
    });
  }
  return data as NonNullable<R["data"]>;
}
