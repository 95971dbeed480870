// One place of the inspector's ring, made once and reused. Recording stores references to what the request
// already holds (its header list as Node received it, its path, the caller's ids, the body texts the layers
// serialized) instead of copying them: the copies were most of what recording cost, and what a reference keeps
// alive is bounded by the ring (a body is cut at the limit into a copy of its own, so a large body is never kept
// whole). Everything else is worked out when the entry is read: the request's media type, its length, whether the
// dashboard sent it, and the redaction of credentials.

export type InspectedApi = "htc" | "admin" | "s3" | "registry" | "other";

export interface InspectedViolation {
  in: string;
  pointer: string;
  message: string;
}

export const NO_VIOLATIONS: readonly InspectedViolation[] = Object.freeze([]);
const NO_HEADERS: readonly string[] = Object.freeze([]);

/** The header the dashboard marks its requests with. */
export const CLIENT_HEADER = "x-htc-emulator-client";

export class Slot {
  id = 0;
  /** Epoch milliseconds. */
  startedAt = 0;
  method = "";
  api: InspectedApi = "other";
  operationId: string | null = null;
  status = 0;
  durationMs = 0;
  /** Until a streamed answer ended; -1 while it streams or when it did not stream. */
  totalMs = -1;
  violations: readonly InspectedViolation[] = NO_VIOLATIONS;
  fault: string | null = null;
  path = "";
  /** Without the `?`; secret parameters are redacted when read. */
  query = "";
  userId: string | null = null;
  email = "";
  workspaceId = "";
  jobId: string | null = null;
  /** The request's headers as received, names and values alternating; credentials are redacted when read. */
  requestHeaders: readonly string[] = NO_HEADERS;
  /** The answer's headers, names and values alternating; null for a JSON answer of an operation (known headers). */
  responseHeaders: readonly string[] | null = null;
  /** The request body as text (cut at the limit), when the endpoint read it as text; null when it did not. */
  requestText: string | null = null;
  /** Characters of the request's text (before any cut). */
  requestTextSize = 0;
  requestTruncated = false;
  responseBody = false;
  /** Characters of a kept text body, bytes otherwise. */
  responseSize = 0;
  responseType = "";
  responseText: string | null = null;
  responseTruncated = false;
  responseOmitted: string | null = null;
  /** The whole answer is a secret (a registry password). */
  responseSecret = false;
  complete = true;

  /** Empties the slot for a new request (what a request always sets is not reset). */
  reset(): void {
    this.totalMs = -1;
    this.violations = NO_VIOLATIONS;
    this.fault = null;
    this.query = "";
    this.userId = null;
    this.email = "";
    this.workspaceId = "";
    this.jobId = null;
    this.responseHeaders = null;
    this.requestText = null;
    this.requestTextSize = 0;
    this.requestTruncated = false;
    this.responseBody = false;
    this.responseSize = 0;
    this.responseType = "";
    this.responseText = null;
    this.responseTruncated = false;
    this.responseOmitted = null;
    this.responseSecret = false;
    this.complete = true;
  }

  /** A request header's value (the first, by case-insensitive name), or undefined. */
  requestHeader(lowerName: string): string | undefined {
    const raw = this.requestHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === lowerName.length && name.toLowerCase() === lowerName) return raw[i + 1];
    }
    return undefined;
  }

  get fromDashboard(): boolean {
    return this.requestHeader(CLIENT_HEADER) === "dashboard";
  }
}

/**
 * At most `limit` characters of a text. A longer text is cut into a string of its own: a slice would keep the
 * whole text alive. The cut never splits a surrogate pair.
 */
export function keptText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = limit;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return Buffer.from(text.slice(0, end), "utf8").toString("utf8");
}
