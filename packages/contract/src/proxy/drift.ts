// Drift recording: each finished exchange is matched to its operation, both messages are validated against the
// contract, and what differs is aggregated per operation (which part of which message, how often, one example).
// Requests to unknown operations and outside the contract are counted apart.
import type { IncomingHttpHeaders } from "node:http";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import type { Contract } from "../contract.js";
import type { Operation } from "../operations.js";
import { bodyValue, type Violation } from "../validate.js";
import type { Exchange } from "./exchange.js";

/** One way a message differed from the contract, with how often it was seen. */
export interface DriftEntry {
  readonly phase: "request" | "response";
  /** The response status, for response drift. */
  readonly status?: number;
  readonly in: Violation["in"];
  /** JSON pointer with array indices replaced by `*`, so the same field of every item counts as one. */
  readonly pointer: string;
  readonly keyword?: string;
  readonly message: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  /** One request that showed it (method and URL path with query), and the offending value when short and harmless. */
  example: { method: string; url: string; pointer: string; value?: unknown };
}

export interface OperationReport {
  readonly operationId: string;
  readonly method: string;
  readonly path: string;
  calls: number;
  /** Exchanges of this operation with at least one drift entry. */
  callsWithDrift: number;
  statuses: Record<string, number>;
  drift: DriftEntry[];
}

export interface UnknownOperationReport {
  readonly method: string;
  /** The concrete path (query left out); `(other)` once too many distinct paths were seen. */
  readonly path: string;
  count: number;
  statuses: Record<string, number>;
}

export interface DriftReport {
  readonly target: string;
  readonly contract: { readonly title: string; readonly version: string; readonly operations: number };
  readonly startedAt: string;
  updatedAt: string;
  totals: {
    /** Every request the proxy received. */
    requests: number;
    /** Exchanges of contract operations that were validated. */
    validated: number;
    /** Of those, exchanges with at least one drift entry. */
    withDrift: number;
    /** Exchanges whose response differed from the contract (the server's side). */
    responseDrift: number;
    /** Exchanges whose request differed from the contract (the client's side). */
    requestDrift: number;
    /** Requests under the API prefix that match no operation of the contract. */
    unknownOperations: number;
    /** Requests outside the contract's paths (for example `/_emulator/…`), forwarded unchecked. */
    outsideContract: number;
    /** Bodies too large to validate (forwarded all the same). */
    notValidated: number;
    /** Requests the target did not answer (the proxy answered 502 or 504). */
    upstreamErrors: number;
  };
  /** Exercised operations, by operationId. */
  operations: Record<string, OperationReport>;
  unknown: UnknownOperationReport[];
  /** Operations of the contract that no request reached. */
  notExercised: string[];
}

/** Distinct unknown paths kept before the rest is counted as `(other)`, so a crawler cannot grow the report. */
export const MAX_UNKNOWN_PATHS = 200;
const SECRETISH = /token|secret|password|credential|key|signature|authorization/i;

interface Finding {
  readonly phase: DriftEntry["phase"];
  readonly violation: Violation;
  readonly value?: unknown;
}

export class DriftRecorder {
  private readonly report: DriftReport;
  /** Per operationId, its drift entries by what makes them the same difference. */
  private readonly entries = new Map<string, Map<string, DriftEntry>>();
  private readonly unknown = new Map<string, UnknownOperationReport>();

  constructor(
    private readonly contract: Contract,
    target: string,
  ) {
    const info = (contract.document["info"] ?? {}) as { title?: string; version?: string };
    const now = new Date().toISOString();
    this.report = {
      target,
      contract: { title: info.title ?? "", version: info.version ?? "", operations: contract.operationIds.length },
      startedAt: now,
      updatedAt: now,
      totals: {
        requests: 0,
        validated: 0,
        withDrift: 0,
        responseDrift: 0,
        requestDrift: 0,
        unknownOperations: 0,
        outsideContract: 0,
        notValidated: 0,
        upstreamErrors: 0,
      },
      operations: {},
      unknown: [],
      notExercised: [...contract.operationIds],
    };
  }

  record(exchange: Exchange): void {
    const { totals } = this.report;
    totals.requests++;
    this.report.updatedAt = new Date().toISOString();
    if (exchange.outcome === "upstream-error") totals.upstreamErrors++;
    const url = new URL(exchange.rawUrl, "http://proxy.invalid");
    if (!this.contract.covers(url.pathname)) {
      totals.outsideContract++;
      return;
    }
    const match = this.contract.match(exchange.method, url.pathname);
    if (!match) {
      totals.unknownOperations++;
      this.countUnknown(exchange, url.pathname);
      return;
    }
    const opReport = this.operationReport(match.operation);
    opReport.calls++;
    countStatus(opReport.statuses, exchange.status);
    if (exchange.outcome !== "answered") return;
    if (exchange.requestBody.truncated || exchange.responseBody.truncated) {
      totals.notValidated++;
      return;
    }
    totals.validated++;
    const found = this.check(exchange, url, match.operation);
    if (found.length === 0) return;
    totals.withDrift++;
    if (found.some((f) => f.phase === "response")) totals.responseDrift++;
    if (found.some((f) => f.phase === "request")) totals.requestDrift++;
    opReport.callsWithDrift++;
    this.addEntries(opReport, exchange, url, found);
  }

  /** A deep copy, so a caller can keep it while recording goes on. */
  snapshot(): DriftReport {
    return JSON.parse(JSON.stringify(this.report)) as DriftReport;
  }

  private countUnknown(exchange: Exchange, path: string): void {
    const own = `${exchange.method} ${path}`;
    const key = this.unknown.size >= MAX_UNKNOWN_PATHS && !this.unknown.has(own) ? `${exchange.method} (other)` : own;
    let entry = this.unknown.get(key);
    if (!entry) {
      entry = { method: exchange.method, path: key.slice(exchange.method.length + 1), count: 0, statuses: {} };
      this.unknown.set(key, entry);
      this.report.unknown.push(entry);
    }
    entry.count++;
    countStatus(entry.statuses, exchange.status);
  }

  private operationReport(op: Operation): OperationReport {
    let opReport = this.report.operations[op.operationId];
    if (!opReport) {
      opReport = { operationId: op.operationId, method: op.method, path: op.path, calls: 0, callsWithDrift: 0, statuses: {}, drift: [] };
      this.report.operations[op.operationId] = opReport;
      this.report.notExercised = this.report.notExercised.filter((id) => id !== op.operationId);
    }
    return opReport;
  }

  /** Both messages of an answered exchange against the contract. */
  private check(exchange: Exchange, url: URL, op: Operation): Finding[] {
    const found: Finding[] = [];
    const requestType = header(exchange.requestHeaders, "content-type");
    const request = parseBody(exchange.requestBody.bytes(), requestType, header(exchange.requestHeaders, "content-encoding"));
    if ("error" in request) found.push({ phase: "request", violation: request.error });
    else {
      const violations = this.contract.validateRequest({
        method: exchange.method,
        path: url.pathname,
        query: url.searchParams,
        headers: plainHeaders(exchange.requestHeaders),
        body: request.value,
      });
      for (const violation of violations) found.push({ phase: "request", violation, value: valueAt(request.value, violation) });
    }
    const responseHeaders = exchange.responseHeaders ?? {};
    const responseType = header(responseHeaders, "content-type");
    const response =
      exchange.method === "HEAD"
        ? { value: undefined }
        : parseBody(exchange.responseBody.bytes(), responseType, header(responseHeaders, "content-encoding"));
    if ("error" in response) found.push({ phase: "response", violation: response.error });
    else {
      const violations = this.contract.validateResponse(op.operationId, exchange.status!, responseType, response.value);
      for (const violation of violations) found.push({ phase: "response", violation, value: valueAt(response.value, violation) });
    }
    return found;
  }

  private addEntries(opReport: OperationReport, exchange: Exchange, url: URL, found: readonly Finding[]): void {
    let byKey = this.entries.get(opReport.operationId);
    if (!byKey) {
      byKey = new Map();
      this.entries.set(opReport.operationId, byKey);
    }
    // The same difference twice in one message (every item of a list) counts once per exchange.
    const seenThisCall = new Set<string>();
    const at = exchange.at.toISOString();
    for (const { phase, violation, value } of found) {
      const pointer = violation.pointer.replace(/\/\d+(?=\/|$)/g, "/*");
      const status = phase === "response" ? exchange.status : undefined;
      const key = [phase, status ?? "", violation.in, pointer, violation.keyword ?? "", violation.message].join("\u0000");
      if (seenThisCall.has(key)) continue;
      seenThisCall.add(key);
      let entry = byKey.get(key);
      if (!entry) {
        entry = {
          phase,
          ...(status === undefined ? {} : { status }),
          in: violation.in,
          pointer,
          ...(violation.keyword ? { keyword: violation.keyword } : {}),
          message: violation.message,
          count: 0,
          firstSeen: at,
          lastSeen: at,
          example: {
            method: exchange.method,
            url: url.pathname + url.search,
            pointer: violation.pointer,
            ...(value === undefined ? {} : { value }),
          },
        };
        byKey.set(key, entry);
        opReport.drift.push(entry);
      }
      entry.count++;
      entry.lastSeen = at;
    }
  }
}

function countStatus(statuses: Record<string, number>, status: number | undefined): void {
  if (status !== undefined) statuses[status] = (statuses[status] ?? 0) + 1;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

function plainHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** A body as the validator wants it: parsed JSON, text, or undefined when empty; compressed bodies are inflated. */
function parseBody(raw: Buffer, contentType: string | undefined, encoding: string | undefined): { value: unknown } | { error: Violation } {
  let bytes = raw;
  try {
    for (const coding of (encoding ?? "")
      .split(",")
      .map((c) => c.trim().toLowerCase())
      .filter((c) => c && c !== "identity")
      .reverse()) {
      if (coding === "gzip" || coding === "x-gzip") bytes = gunzipSync(bytes);
      else if (coding === "deflate") bytes = inflateSync(bytes);
      else if (coding === "br") bytes = brotliDecompressSync(bytes);
      else return { error: { in: "body", pointer: "", message: `cannot check a body with Content-Encoding ${coding}` } };
    }
  } catch (error) {
    return { error: { in: "body", pointer: "", message: `the ${encoding} body does not decode: ${(error as Error).message}` } };
  }
  return bodyValue(bytes.toString("utf8"), contentType);
}

/** The offending value when it is a short primitive in the body and its name does not look secret. */
function valueAt(body: unknown, violation: Violation): unknown {
  if (violation.in !== "body" || SECRETISH.test(violation.pointer)) return undefined;
  let node = body;
  for (const raw of violation.pointer.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  if (node === null || typeof node === "number" || typeof node === "boolean") return node;
  if (typeof node === "string" && node.length <= 80) return node;
  return undefined;
}
