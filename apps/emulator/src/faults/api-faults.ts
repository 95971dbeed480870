// API faults: wraps every operation of the HTC API and the admin API (see OperationRegistry) once its operationId
// is known and before it authenticates, so a rule can hit any request, the token exchange included (admin
// operations only when a rule names them, see FaultInjector.matchApi). A hit waits `latencyMs` (real
// time: client timeouts are real time), then drops the connection (before the operation ran, or after it ran
// and committed) or answers `status` with the error body the contract declares for that status on this
// operation; injected answers carry X-HTC-Emulator-Fault (and --strict lets them through unchecked).
import type { IncomingMessage } from "node:http";
import { contractOf } from "../http/contracts.js";
import type { AppContext, ServedOperation } from "../http/env.js";
import type { RegisteredOperation } from "../http/router.js";
import type { ApiFault } from "./rules.js";

export const FAULT_HEADER = "X-HTC-Emulator-Fault";

/** Which error body the contract declares for `status` on an operation: HTCRequestError or OAuth2ErrorResponse. */
function bodyShape(operation: ServedOperation, status: number): "request" | "oauth" {
  const responses = contractOf(operation.api).findOperation(operation.operationId)?.responses ?? {};
  const spec = responses[String(status)] ?? responses[`${Math.floor(status / 100)}XX`];
  const ref = JSON.stringify(
    (spec?.content as Record<string, { schema?: unknown } | undefined> | undefined)?.["application/json"]?.schema ?? {},
  );
  // HTCImageError is HTCRequestError by another name (allOf); the admin API calls it RequestError.
  return /HTCRequestError|HTCImageError|\/RequestError"/.test(ref) ? "request" : "oauth";
}

const codes: Record<number, [oauth: string, request: string, text: string]> = {
  400: ["invalid_request", "VALIDATION_ERROR", "The request is invalid"],
  401: ["invalid_token", "UNAUTHORIZED", "The credentials are not accepted"],
  403: ["insufficient_scope", "FORBIDDEN", "The operation is not allowed"],
  404: ["not_found", "NOT_FOUND", "The resource does not exist"],
  409: ["conflict", "CONFLICT", "The request conflicts with the resource's state"],
  429: ["too_many_requests", "TOO_MANY_REQUESTS", "Rate exceeded"],
  500: ["internal_error", "INTERNAL_ERROR", "The server failed"],
  502: ["bad_gateway", "BAD_GATEWAY", "Bad gateway"],
  503: ["service_unavailable", "SERVICE_UNAVAILABLE", "The service is unavailable"],
  504: ["gateway_timeout", "GATEWAY_TIMEOUT", "The gateway timed out"],
};

/** The injected answer: the contract's error body for the status, Retry-After, and the fault header. */
export function faultResponse(operation: ServedOperation, ruleId: string, fault: ApiFault & { status: number }): Response {
  const [oauth, request, text] = codes[fault.status] ?? ["error", "ERROR", `Error ${fault.status}`];
  const description = fault.errorDescription ?? `${text} (injected by the emulator's fault rule ${ruleId}).`;
  const body =
    bodyShape(operation, fault.status) === "request"
      ? { errorType: request, errorDescription: description, message: null }
      : { error: oauth, errorDescription: description };
  const headers = new Headers({ "content-type": "application/json", [FAULT_HEADER]: ruleId });
  if (fault.retryAfterSeconds !== undefined) headers.set("Retry-After", String(fault.retryAfterSeconds));
  if (fault.status === 401) headers.set("WWW-Authenticate", "Bearer");
  return new Response(JSON.stringify(body), { status: fault.status, headers });
}

/** Closes the client's connection without an answer. */
function dropConnection(c: AppContext, ruleId: string): Response {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming?.socket) incoming.socket.destroy();
  else throw new Error(`fault rule ${ruleId}: the connection was dropped`); // not served by Node (app.request)
  return new Response(null, { status: 500, headers: { [FAULT_HEADER]: ruleId } });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function jobIndexOf(jobId: string | undefined): number | undefined {
  const m = jobId ? /:(\d+)$/.exec(jobId) : null;
  return m ? Number(m[1]) : undefined;
}

/** The OperationRegistry `around` hook that injects API faults; with no API rule it only runs the operation. */
export function injectApiFaults(
  c: AppContext,
  op: RegisteredOperation,
  run: (c: AppContext) => Response | Promise<Response>,
): Response | Promise<Response> {
  if (!c.get("faults").injector.hasApiRules) return run(c);
  return withApiFaults(c, op, run);
}

async function withApiFaults(
  c: AppContext,
  op: RegisteredOperation,
  run: (c: AppContext) => Response | Promise<Response>,
): Promise<Response> {
  const faults = c.get("faults").injector;
  const operation = c.get("operation");
  const param = (name: string): string | undefined => c.req.param(name) || undefined;
  const hit = faults.matchApi(
    {
      operation: op.operationId,
      api: operation.api,
      method: c.req.method,
      projectId: param("projectId"),
      taskId: param("taskId"),
      group: c.req.query("group"),
      jobIndex: jobIndexOf(param("jobId")),
    },
    new URL(c.req.url).pathname,
  );
  if (!hit) return run(c);
  const { ruleId, fault } = hit;
  if (fault.latencyMs) await sleep(fault.latencyMs);
  if (fault.drop === "request") return dropConnection(c, ruleId);
  if (fault.drop === "response") {
    // The operation runs and commits; only its answer is lost.
    await Promise.resolve(c)
      .then(run)
      .catch(() => undefined);
    return dropConnection(c, ruleId);
  }
  if (fault.status !== undefined) return faultResponse(operation, ruleId, { ...fault, status: fault.status });
  const response = await run(c);
  return response;
}
