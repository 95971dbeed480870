// The request inspector: the last N requests the emulator answered, in a ring of reusable slots (slot.ts), and
// their views. Recording keeps references in the slot (see slot.ts); headers and bodies are interpreted and
// redacted only when someone reads them. Memory stays bounded: `capacity` slots, each body cut at `bodyLimit`
// characters.
import { redactHeader, redactJsonText, redactQuery, redactText, REDACTED } from "./redact.js";
import { CLIENT_HEADER, type InspectedApi, type InspectedViolation, keptText, NO_VIOLATIONS, Slot } from "./slot.js";

export { CLIENT_HEADER, type InspectedApi, type InspectedViolation, keptText, NO_VIOLATIONS, Slot };

export interface Summary {
  id: number;
  startedAt: string;
  method: string;
  path: string;
  query: string;
  api: InspectedApi;
  operationId: string | null;
  status: number;
  durationMs: number;
  totalMs?: number;
  principal: { userId: string; email: string; workspaceId: string; jobId?: string } | null;
  violations: InspectedViolation[];
  fault: string | null;
  fromDashboard: boolean;
  requestSize: number;
  responseSize: number | null;
  complete: boolean;
}

export interface Detail extends Summary {
  requestHeaders: { name: string; value: string }[];
  responseHeaders: { name: string; value: string }[];
  requestBody: PublicBody | null;
  responseBody: PublicBody | null;
}

export interface PublicBody {
  mimeType: string;
  size: number;
  text?: string;
  truncated: boolean;
  omitted?: string;
}

export interface InspectorFilter {
  method?: string;
  status?: string;
  operationId?: string;
  path?: string;
  api?: InspectedApi;
  violations?: boolean;
  dashboard?: boolean;
}

type Listener = (entry: Slot) => void;

export class Inspector {
  private readonly ring: Slot[] = [];
  private last = 0;
  /** Entries with an id up to this one were cleared. */
  private clearedUpTo = 0;
  private readonly listeners = new Set<Listener>();

  constructor(
    readonly capacity: number,
    readonly bodyLimit: number,
  ) {}

  get enabled(): boolean {
    return this.capacity > 0;
  }

  /** Requests recorded since start (the id of the newest). */
  get recorded(): number {
    return this.last;
  }

  get held(): number {
    return Math.min(this.capacity, this.last - this.clearedUpTo);
  }

  /**
   * The slot the next request is recorded in, emptied. Fill it synchronously and `commit()` it: until then it
   * is nobody's (its previous request is forgotten).
   */
  begin(): Slot {
    const index = this.last % this.capacity;
    let slot = this.ring[index];
    if (!slot) {
      slot = new Slot();
      this.ring[index] = slot;
    }
    slot.id = 0;
    slot.reset();
    return slot;
  }

  /** Numbers the slot, and tells the listeners (synchronously: the slot is reused `capacity` requests later). */
  commit(slot: Slot): number {
    slot.id = ++this.last;
    for (const listener of this.listeners) listener(slot);
    return slot.id;
  }

  /** Changes a recorded entry if the ring still holds it (a stream that ended). */
  update(id: number, change: (entry: Slot) => void): void {
    const entry = this.get(id);
    if (entry) change(entry);
  }

  get(id: number): Slot | undefined {
    if (id <= this.clearedUpTo || id > this.last || id <= this.last - this.capacity) return undefined;
    const entry = this.ring[(id - 1) % this.capacity];
    return entry?.id === id ? entry : undefined;
  }

  /** Matching entries, newest first, with an id above `after`. */
  *newestFirst(filter: InspectorFilter = {}, after = 0): Generator<Slot> {
    const oldest = Math.max(this.clearedUpTo, this.last - this.capacity, after) + 1;
    const matches = matcher(filter);
    for (let id = this.last; id >= oldest; id--) {
      const entry = this.ring[(id - 1) % this.capacity];
      if (entry && entry.id === id && matches(entry)) yield entry;
    }
  }

  clear(): void {
    this.clearedUpTo = this.last;
  }

  /** Calls `listener` with every entry recorded from now on; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  summaryOf(entry: Slot): Summary {
    const { userId, jobId } = entry;
    return {
      id: entry.id,
      startedAt: new Date(entry.startedAt).toISOString(),
      method: entry.method,
      path: entry.path,
      query: redactQuery(entry.query),
      api: entry.api,
      operationId: entry.operationId,
      status: entry.status,
      durationMs: round(entry.durationMs),
      ...(entry.totalMs >= 0 ? { totalMs: round(entry.totalMs) } : {}),
      principal: userId === null ? null : { userId, email: entry.email, workspaceId: entry.workspaceId, ...(jobId ? { jobId } : {}) },
      violations: [...entry.violations],
      fault: entry.fault,
      fromDashboard: entry.fromDashboard,
      requestSize: requestOf(entry)?.size ?? 0,
      responseSize: entry.complete ? entry.responseSize : null,
      complete: entry.complete,
    };
  }

  detailOf(entry: Slot): Detail {
    const { responseHeaders, responseText } = entry;
    const request = requestOf(entry);
    return {
      ...this.summaryOf(entry),
      requestHeaders: headerList(entry.requestHeaders),
      responseHeaders:
        responseHeaders === null
          ? [
              { name: "content-type", value: "application/json" },
              ...(entry.responseTruncated ? [] : [{ name: "content-length", value: String(Buffer.byteLength(responseText ?? "")) }]),
            ]
          : headerList(responseHeaders),
      requestBody: request ? publicBody(request.type, request.size, request.text, entry.requestTruncated, request.omitted, false) : null,
      responseBody: entry.responseBody
        ? publicBody(
            entry.responseType,
            entry.responseSize,
            responseText,
            entry.responseTruncated,
            entry.responseOmitted,
            entry.responseSecret,
          )
        : null,
    };
  }
}

interface RecordedRequestBody {
  type: string;
  size: number;
  text: string | null;
  omitted: string | null;
}

/** What the entry knows of its request's body: the text the endpoint read, or only the headers' word on it. */
function requestOf(entry: Slot): RecordedRequestBody | null {
  const text = entry.requestText;
  if (text !== null) {
    if (text === "") return null;
    return { type: entry.requestHeader("content-type") || "application/json", size: entry.requestTextSize, text, omitted: null };
  }
  const length = Number(entry.requestHeader("content-length") ?? "0") || 0;
  if (length <= 0) return null;
  return {
    type: entry.requestHeader("content-type") || "application/octet-stream",
    size: length,
    text: null,
    omitted: "not recorded: binary, or not read by the endpoint",
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** [a, b, c, d] → [{a: b}, {c: d}], redacted. */
function headerList(parts: readonly string[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) out.push({ name: parts[i]!, value: redactHeader(parts[i]!, parts[i + 1]!) });
  return out;
}

function isJson(mimeType: string): boolean {
  const media = mimeType.split(";")[0]!.trim().toLowerCase();
  return media === "application/json" || media.endsWith("+json");
}

function publicBody(
  mimeType: string,
  size: number,
  text: string | null,
  truncated: boolean,
  omitted: string | null,
  secret: boolean,
): PublicBody {
  const out: PublicBody = { mimeType, size, truncated };
  if (omitted) out.omitted = omitted;
  if (text !== null) {
    if (secret) out.text = REDACTED;
    else out.text = isJson(mimeType) ? redactJsonText(text, !truncated) : redactText(text);
  }
  return out;
}

/** The predicate of a filter (fields left out match everything). */
export function matcher(filter: InspectorFilter): (entry: Slot) => boolean {
  const status = filter.status?.toLowerCase();
  const statusTest: ((s: number) => boolean) | undefined =
    status === undefined
      ? undefined
      : status === "error"
        ? (s) => s >= 400
        : status.endsWith("xx")
          ? (s) => Math.floor(s / 100) === Number(status[0])
          : (s) => s === Number(status);
  const path = filter.path?.toLowerCase();
  return (e) =>
    (filter.method === undefined || e.method === filter.method) &&
    (statusTest === undefined || statusTest(e.status)) &&
    (filter.operationId === undefined || e.operationId === filter.operationId) &&
    (path === undefined || e.path.toLowerCase().includes(path)) &&
    (filter.api === undefined || e.api === filter.api) &&
    (filter.violations === undefined || e.violations.length > 0 === filter.violations) &&
    (filter.dashboard !== false || !e.fromDashboard);
}
