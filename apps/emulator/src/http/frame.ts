// What happens around every operation of both APIs, inside the operation's own route handler: the emulator's
// parts are set on the context, a failure becomes the contract's error body, --strict checks the answer, the
// request counters count it and --log-requests logs it. Hono answers a route with exactly one handler without
// composing middleware (no promise, no turn of the event loop), so this runs in the handler, not in an
// `app.use()` middleware that every request would pay for; it stays synchronous when the operation is.
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { seriesKey } from "../domain/counters.js";
import { ApiError } from "../errors.js";
import type { AppContext, Emulator, ServedOperation } from "./env.js";
import { checkedResponse } from "./strict.js";

/** Runs an operation (`run`) for a request: see OperationRegistry.mount. */
export type OperationFrame = (
  c: AppContext,
  operation: ServedOperation,
  run: (c: AppContext) => Response | Promise<Response>,
) => Response | Promise<Response>;

/** Sets the emulator's parts on a request's context (every route reads them from there). */
export function setEmulator(c: AppContext, emulator: Emulator): void {
  c.set("core", emulator.core);
  c.set("jobs", emulator.jobs);
  c.set("faults", emulator.faults);
  c.set("registry", emulator.registry);
  c.set("inspector", emulator.inspector);
}

/** The answer to a failure: an ApiError's status and body, anything else a 500 (logged). */
export function errorResponse(error: unknown, c: AppContext, log: (line: string) => void): Response {
  if (error instanceof ApiError) {
    for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
    return jsonAnswer(c, error.body, error.status, Object.keys(error.headers).length ? error.headers : undefined);
  }
  log(`internal error on ${c.req.method} ${c.req.url}: ${(error as Error).stack ?? error}`);
  return jsonAnswer(c, { error: "internal_error", errorDescription: `The emulator failed: ${(error as Error).message}` }, 500);
}

/**
 * `c.json()` for answers made outside an operation's handler (errors, unknown routes); while the request inspector
 * records, it is handed the text sent and the headers set besides the media type.
 */
export function jsonAnswer(c: AppContext, value: unknown, status: ContentfulStatusCode, headers?: Record<string, string>): Response {
  const exchange = c.get("exchange");
  if (exchange === undefined) return c.json(value, status);
  const text = JSON.stringify(value);
  exchange.responseText = text;
  exchange.responseType = "application/json";
  if (headers) exchange.responseHeaders = headers;
  return c.body(text, status, { "Content-Type": "application/json" });
}

export interface FrameOptions {
  /** --strict: check every answer against the operation's API description. */
  strict: boolean;
  /** --log-requests: one line per request. */
  logRequests: boolean;
  log: (line: string) => void;
}

export function operationFrame(emulator: Emulator, options: FrameOptions): OperationFrame {
  const { counters } = emulator.core;
  const { strict, logRequests, log } = options;
  // The request counter's series of each operation and status, named once (naming costs more than counting).
  const series = new Map<ServedOperation, Map<number, string>>();
  const seriesOf = (operation: ServedOperation, status: number): string => {
    let byStatus = series.get(operation);
    if (!byStatus) {
      byStatus = new Map();
      series.set(operation, byStatus);
    }
    let key = byStatus.get(status);
    if (key === undefined) {
      const name = operation.api === "admin" ? "htc_emulator_admin_requests_total" : "htc_api_requests_total";
      key = seriesKey(name, { operation: operation.operationId, code: String(status) });
      byStatus.set(status, key);
    }
    return key;
  };

  /** Counts and logs an answer. */
  const finish = (c: AppContext, operation: ServedOperation, response: Response, started: number): Response => {
    const status = response.status;
    if (operation.api === "admin") counters.incEmulatorSeries(seriesOf(operation, status));
    else {
      // Requests that never got a caller (refused credentials) belong to no workspace.
      const principal = c.get("principal");
      if (principal) counters.incSeries(principal.workspace.id, seriesOf(operation, status));
    }
    if (logRequests) log(`${c.req.method} ${new URL(c.req.url).pathname} ${status} ${(performance.now() - started).toFixed(1)}ms`);
    return response;
  };
  /** An answer still to come (or to be checked by --strict), then counted and logged. */
  const settle = async (c: AppContext, operation: ServedOperation, answer: Response | Promise<Response>, started: number) => {
    let response: Response;
    try {
      response = await answer;
    } catch (error) {
      response = errorResponse(error, c, log);
    }
    if (strict) response = await checkedResponse(operation, response, log, c.get("exchange"));
    return finish(c, operation, response, started);
  };

  // No closure is made per request: the common answer (synchronous, not --strict) takes no turn and no allocation.
  return (c, operation, run) => {
    setEmulator(c, emulator);
    const started = logRequests ? performance.now() : 0;
    let answer: Response | Promise<Response>;
    try {
      answer = run(c);
    } catch (error) {
      answer = errorResponse(error, c, log);
    }
    return strict || answer instanceof Promise ? settle(c, operation, answer, started) : finish(c, operation, answer, started);
  };
}
