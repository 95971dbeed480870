// One place of the inspector's ring. What recording costs is mostly the garbage collector's: anything a request
// allocated and the ring keeps survives the young generation and must be copied and promoted. So a slot is made
// once and reused, and the strings of a request (path, headers, bodies, caller) are copied as UTF-8 into the
// slot's own byte buffer, which is reused too; only numbers and strings that live anyway (method names,
// operationIds) are kept as they are. Reading decodes them again.

export type InspectedApi = "htc" | "admin" | "s3" | "registry" | "other";

export interface InspectedViolation {
  in: string;
  pointer: string;
  message: string;
}

/** The strings a slot keeps in its buffer. */
export const TEXT_FIELDS = [
  "path",
  "query",
  "userId",
  "email",
  "workspaceId",
  "jobId",
  "requestHeaders",
  "responseHeaders",
  "requestType",
  "requestText",
  "responseType",
  "responseText",
] as const;
export type TextField = (typeof TEXT_FIELDS)[number];

const INDEX: Record<TextField, number> = Object.fromEntries(TEXT_FIELDS.map((f, i) => [f, i])) as Record<TextField, number>;

/** Bytes past which a slot's buffer is given back when the slot is reused. */
const SHRINK_ABOVE = 64 * 1024;

export const NO_VIOLATIONS: readonly InspectedViolation[] = Object.freeze([]);

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
  fromDashboard = false;
  requestBody = false;
  /** Characters of a kept text body, bytes otherwise. */
  requestSize = 0;
  requestTruncated = false;
  requestOmitted: string | null = null;
  responseBody = false;
  responseSize = 0;
  responseTruncated = false;
  responseOmitted: string | null = null;
  /** The whole answer is a secret (a registry password). */
  responseSecret = false;
  complete = true;

  private bytes = Buffer.alloc(2048);
  private used = 0;
  /** Start and byte length of each text field; -1 for null. */
  private readonly spans = new Int32Array(TEXT_FIELDS.length * 2).fill(-1);

  /** Empties the slot for a new request. */
  reset(): void {
    // A buffer that grew for one large request is not kept for the small ones after it.
    if (this.bytes.length > SHRINK_ABOVE) this.bytes = Buffer.alloc(2048);
    this.used = 0;
    this.spans.fill(-1);
    this.totalMs = -1;
    this.violations = NO_VIOLATIONS;
    this.fault = null;
    this.fromDashboard = false;
    this.requestBody = false;
    this.requestSize = 0;
    this.requestTruncated = false;
    this.requestOmitted = null;
    this.responseBody = false;
    this.responseSize = 0;
    this.responseTruncated = false;
    this.responseOmitted = null;
    this.responseSecret = false;
    this.complete = true;
  }

  set(field: TextField, value: string | null): void {
    const i = INDEX[field] * 2;
    if (value === null) {
      this.spans[i] = -1;
      this.spans[i + 1] = -1;
      return;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const room = value.length * 3;
    if (this.used + room > this.bytes.length) {
      const grown = Buffer.alloc(Math.max(this.bytes.length * 2, 1 << Math.ceil(Math.log2(this.used + room))));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    // Buffer.write encodes in place: no view of the buffer is made per field (a TextEncoder needs one).
    const written = this.bytes.write(value, this.used);
    this.spans[i] = this.used;
    this.spans[i + 1] = written;
    this.used += written;
  }

  get(field: TextField): string | null {
    const i = INDEX[field] * 2;
    const start = this.spans[i]!;
    return start < 0 ? null : this.bytes.toString("utf8", start, start + this.spans[i + 1]!);
  }

  /** `get()` of a field that is never null. */
  text(field: TextField): string {
    return this.get(field) ?? "";
  }
}
