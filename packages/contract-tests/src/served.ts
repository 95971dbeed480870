// Which operations a target answers, seen from outside: a request to an operation the emulator does not route
// gets the router's own 404 ("No operation answers …"), which no operation sends. Used to make the suite expect
// exactly the served set, and by the black-box route check.
import type { Contract, Operation } from "@htcemu/contract";
import type { Target } from "./target.js";

/** The start of the `errorDescription` of the emulator's fallback 404 (apps/emulator/src/app.ts, notFound). */
export const NOT_ROUTED = "No operation answers ";

/**
 * Operations other helpers are still building (storage: openapi/src/45-storage.yaml, container registry:
 * openapi/src/30-registry.yaml). Until they land they may answer "No operation answers"; the suite reports them
 * as not served instead of failing. Once an operation is served, it is required like any other, so when all of
 * these land the suite requires 57/57. Delete entries as they land; this list only shrinks.
 */
export const IN_FLIGHT_OPERATIONS: readonly string[] = [];

/** Placeholder values that satisfy each path parameter's schema (enums take their first value). */
export function placeholderValue(op: Operation, name: string): string {
  const param = op.parameters.find((p) => p.in === "path" && p.name === name);
  const schema = param?.schema?.schema as Record<string, unknown> | undefined;
  if (name === "jobId") return "probe:0";
  if (name === "imageName") return "probe:v1";
  if (name === "repoName") return "probe";
  if (name === "region") return "AWS_US_EAST_1";
  if (schema?.["type"] === "integer") return "1";
  return "probe-0000";
}

/** The operation's path with every `{param}` replaced (each value percent-encoded). */
export function concretePath(op: Operation, values: (name: string) => string): string {
  return op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(values(name)));
}

export interface RouteProbe {
  readonly operationId: string;
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** Whether the target routed the request to an operation (anything but the router's fallback 404). */
  readonly routed: boolean;
  readonly body: unknown;
}

/** Sends `method url` without credentials or body and tells whether the router knew it. */
export async function probeRoute(method: string, url: string): Promise<{ status: number; routed: boolean; body: unknown }> {
  const response = await fetch(url, { method, redirect: "manual" });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the text
  }
  const description =
    body && typeof body === "object" && typeof (body as Record<string, unknown>)["errorDescription"] === "string"
      ? ((body as Record<string, unknown>)["errorDescription"] as string)
      : "";
  return { status: response.status, routed: !(response.status === 404 && description.startsWith(NOT_ROUTED)), body };
}

/** Probes every operation of the contract (with placeholder path values, unauthenticated). */
export async function probeOperations(contract: Contract, baseUrl: string): Promise<RouteProbe[]> {
  return Promise.all(
    contract.operations.map(async (op) => {
      const url = baseUrl + concretePath(op, (name) => placeholderValue(op, name));
      return { operationId: op.operationId, method: op.method, url, ...(await probeRoute(op.method, url)) };
    }),
  );
}

export interface ServedSet {
  /** Operations the target answers, in contract order. */
  readonly served: string[];
  /** Operations it does not route (only knowable for the emulator: its fallback 404 is recognisable). */
  readonly notServed: string[];
  /** Whether `notServed` was measured (false for remote targets, where every operation counts as served). */
  readonly measured: boolean;
}

export async function servedOperations(contract: Contract, target: Target): Promise<ServedSet> {
  if (target.kind !== "emulator") return { served: [...contract.operationIds], notServed: [], measured: false };
  const probes = await probeOperations(contract, target.baseUrl);
  return {
    served: probes.filter((p) => p.routed).map((p) => p.operationId),
    notServed: probes.filter((p) => !p.routed).map((p) => p.operationId),
    measured: true,
  };
}
