// The request inspector's recording. An operation is recorded by its operation frame (frame.ts), wrapped by
// `recordingFrame()` only when the inspector is on, so requests pay nothing for it when it is off; the routes that
// are not operations (the S3 endpoint, the registry's internal routes) by a middleware, unknown routes by the
// not-found answer. The bodies come from the layers that already hold them as text (the JSON body that
// validation.ts read, the text router.ts or frame.ts serialized), so nothing is read twice, and a JSON answer's
// headers are not even looked at (they are known). A streamed answer (a snapshot, a live feed) passes through a
// tap that counts it and keeps its first characters, and completes the entry when it ends. The inspector's own
// operations and the dashboard's files are not recorded.
import type { IncomingMessage } from "node:http";
import type { MiddlewareHandler } from "hono";
import { type InspectedApi, type Inspector, keptText } from "../inspector/inspector.js";
import { REDACTED } from "../inspector/redact.js";
import { S3_PREFIX } from "../storage/layout.js";
import { ADMIN_PREFIX, API_PREFIX } from "./contracts.js";
import type { AppContext, AppEnv, Exchange } from "./env.js";
import type { OperationFrame } from "./frame.js";

/** The inspector's own operations: recording them would fill the ring with the inspector's polling. */
export const INSPECTOR_OPERATIONS: ReadonlySet<string> = new Set([
  "getInspectorState",
  "listInspectedRequests",
  "clearInspectedRequests",
  "getInspectedRequest",
  "streamInspectedRequests",
  "exportInspectedRequestsHar",
]);

const TIME_ORIGIN = performance.timeOrigin;

/** Operations whose whole answer is a secret. */
const SECRET_ANSWERS: ReadonlySet<string> = new Set(["getRegistryToken"]);

/** Records the requests of an app into `inspector` (which is on). */
export class Recorder {
  private readonly limit: number;

  constructor(private readonly inspector: Inspector) {
    this.limit = inspector.bodyLimit;
  }

  /** Starts recording a request: its exchange is set on the context for the layers that fill it. */
  open(c: AppContext): Exchange {
    const exchange: Exchange = { started: performance.now() };
    c.set("exchange", exchange);
    return exchange;
  }

  /**
   * Records the answer of a request opened with `open()`; gives the response to send (a stream passes through a
   * tap). Synchronous unless the answer's text has to be read back (answers made outside the serializers, such as
   * a fault rule's: rare, and small).
   */
  close(c: AppContext, exchange: Exchange, response: Response): Response | Promise<Response> {
    const operation = c.get("operation");
    const api: InspectedApi = operation?.api ?? apiOfPath(c.req.path);
    if (
      exchange.responseText === undefined &&
      exchange.stream !== true &&
      (api === "htc" || api === "admin") &&
      response.body &&
      /json|^text\/plain/i.test(response.headers.get("content-type") ?? "")
    ) {
      return response
        .clone()
        .text()
        .then((text) => {
          exchange.responseText = text;
          return this.commit(c, exchange, response, api);
        });
    }
    return this.commit(c, exchange, response, api);
  }

  /** The middleware that records the routes it is used on (routes that are not operations). */
  middleware(): MiddlewareHandler<AppEnv> {
    return async (c, next) => {
      const exchange = this.open(c);
      await next();
      const response = await this.close(c, exchange, c.res);
      // Set only when it changed: setting c.res copies the response.
      if (response !== c.res) c.res = response;
    };
  }

  /** `frame` recording every operation but the inspector's own. */
  frame(frame: OperationFrame): OperationFrame {
    return (c, operation, run) => {
      if (INSPECTOR_OPERATIONS.has(operation.operationId)) return frame(c, operation, run);
      const exchange = this.open(c);
      const answer = frame(c, operation, run);
      return answer instanceof Promise ? answer.then((response) => this.close(c, exchange, response)) : this.close(c, exchange, answer);
    };
  }

  /** Fills a slot of the ring with the exchange (synchronously: see Inspector.begin). */
  private commit(c: AppContext, exchange: Exchange, response: Response, api: InspectedApi): Response {
    const { inspector, limit } = this;
    const operation = c.get("operation");
    const started = exchange.started;
    const slot = inspector.begin();
    slot.durationMs = performance.now() - started;
    // Epoch milliseconds from the monotonic clock: one clock read per request instead of two.
    slot.startedAt = TIME_ORIGIN + started;
    slot.method = c.req.method;
    const path = c.req.path;
    slot.path = operation?.secretParams ? hideParams(c, path, operation.secretParams) : path;
    const url = c.req.url;
    const q = url.indexOf("?");
    if (q >= 0) slot.query = url.slice(q + 1);
    slot.api = api;
    slot.operationId = operation?.operationId ?? null;
    slot.status = response.status;
    // Referenced, not copied: Node made this list for the request, and the credentials in it are redacted when read.
    slot.requestHeaders = rawHeaders(c);
    const principal = c.get("principal");
    if (principal) {
      slot.userId = principal.user.id;
      slot.email = principal.user.email;
      slot.workspaceId = principal.workspace.id;
      if (principal.job) slot.jobId = principal.job.jobId;
    }
    if (exchange.violations) slot.violations = exchange.violations;
    const requestText = exchange.requestText;
    if (requestText !== undefined) {
      slot.requestText = keptText(requestText, limit);
      slot.requestTextSize = requestText.length;
      slot.requestTruncated = requestText.length > limit;
    }
    slot.responseSecret = operation !== undefined && SECRET_ANSWERS.has(operation.operationId);

    const responseText = exchange.responseText;
    let responseType = exchange.responseType ?? "";
    // A JSON answer of an operation has known headers; any other keeps them as sent.
    if (exchange.responseType === undefined || exchange.responseHeaders !== undefined) {
      const flat: string[] = [];
      response.headers.forEach((value, name) => {
        flat.push(name, value);
        if (name === "content-type") responseType = value;
        else if (name === "x-htc-emulator-fault") slot.fault = value;
      });
      slot.responseHeaders = flat;
    }

    if (exchange.stream === true && response.body !== null) {
      // A stream: record it now (its headers are sent), complete it when it ends.
      const text = /^text\/|json/i.test(responseType);
      slot.complete = false;
      slot.responseBody = true;
      slot.responseType = responseType || "application/octet-stream";
      if (!text) slot.responseOmitted = "binary";
      const id = inspector.commit(slot);
      let kept = "";
      let size = 0;
      let truncated = false;
      const body = tap(
        response.body,
        text,
        limit,
        (bytes, chunk) => {
          size += bytes;
          if (chunk === undefined || truncated) return;
          if (kept.length + chunk.length > limit) {
            kept += chunk.slice(0, limit - kept.length);
            truncated = true;
          } else kept += chunk;
        },
        () =>
          inspector.update(id, (entry) => {
            entry.complete = true;
            entry.totalMs = performance.now() - started;
            entry.responseSize = size;
            if (text) {
              entry.responseText = keptText(kept, limit);
              entry.responseTruncated = truncated;
            }
          }),
      );
      return new Response(body, response);
    }

    if (responseText !== undefined) {
      if (responseText !== "") {
        slot.responseBody = true;
        slot.responseType = responseType || "application/json";
        slot.responseSize = responseText.length;
        slot.responseText = keptText(responseText, limit);
        slot.responseTruncated = responseText.length > limit;
      }
    } else if (response.status !== 204 && response.status !== 304 && response.body) {
      slot.responseBody = true;
      slot.responseType = responseType || "application/octet-stream";
      slot.responseSize = Number(response.headers.get("content-length") ?? "0") || 0;
      slot.responseOmitted = "not recorded for this endpoint";
    }
    inspector.commit(slot);
    return response;
  }
}

/** The last header list of a connection, kept on its socket (see rawHeaders). */
const LAST_HEADERS = Symbol("htc-emulator.inspector.lastHeaders");

/**
 * The request's headers as received (Node keeps them as a flat list), or as the Request has them. A client sends
 * the same headers on a connection request after request: then the list the ring already holds is given again, and
 * the new one (with its copy of a bearer token, most of its bytes) dies with the request instead of being kept.
 */
function rawHeaders(c: AppContext): readonly string[] {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming) {
    const raw = incoming.rawHeaders;
    const socket = incoming.socket as { [LAST_HEADERS]?: string[] } | null;
    if (!socket) return raw;
    const last = socket[LAST_HEADERS];
    if (last !== undefined && sameList(last, raw)) return last;
    socket[LAST_HEADERS] = raw;
    return raw;
  }
  const flat: string[] = [];
  c.req.raw.headers.forEach((value, name) => {
    flat.push(name, value);
  });
  return flat;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function apiOfPath(path: string): InspectedApi {
  if (path.startsWith(`${S3_PREFIX}/`)) return "s3";
  if (path.startsWith(`${ADMIN_PREFIX}/`)) return "admin";
  if (path.startsWith("/_emulator/registry")) return "registry";
  if (path.startsWith(`${API_PREFIX}/`)) return "htc";
  return "other";
}

/** The path with the values of secret parameters replaced. */
function hideParams(c: AppContext, path: string, names: readonly string[]): string {
  let out = path;
  for (const name of names) {
    const value = c.req.param(name);
    if (value)
      out = out
        .split(`/${encodeURIComponent(value)}`)
        .join(`/${REDACTED}`)
        .split(`/${value}`)
        .join(`/${REDACTED}`);
  }
  return out;
}

/** Passes a body through, telling `seen` of each chunk (decoded too when `text`) and `done` once it ends. */
function tap(
  body: ReadableStream<Uint8Array>,
  text: boolean,
  limit: number,
  seen: (bytes: number, text: string | undefined) => void,
  done: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = text ? new TextDecoder() : undefined;
  let decoded = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        finish();
        controller.error(error);
        return;
      }
      if (chunk.done) {
        finish();
        controller.close();
        return;
      }
      // Decoding stops once the kept text is full.
      const more = decoder && decoded < limit ? decoder.decode(chunk.value, { stream: true }) : undefined;
      if (more !== undefined) decoded += more.length;
      seen(chunk.value.byteLength, more);
      controller.enqueue(chunk.value);
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
}
