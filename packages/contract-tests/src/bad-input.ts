// Running generated invalid requests against a target and judging the answers: each must be a 4xx that the
// contract declares for the operation, with the body the contract describes for that status; never a 5xx, never
// a success; and the observable state must not change.
import type { Contract, Operation, ResponseValidationOptions } from "@htcemu/contract";
import { describeRequest, encodeBody, type HttpRequestSpec, type InvalidRequest, type MutationKind, requestPath } from "./generate.js";

export interface Answer {
  /** 0 when no answer arrived (connection closed, timeout). */
  readonly status: number;
  readonly contentType: string | null;
  readonly body: unknown;
  readonly error?: string;
}

export interface Credentials {
  readonly bearer: string;
  readonly apiKey: string;
}

export type Security = "bearer" | "apiKey" | "none";

/** Sends one request built from a spec, with the operation's own credentials unless the spec says otherwise. */
export async function sendRequest(
  baseUrl: string,
  op: Operation,
  security: Security,
  request: HttpRequestSpec,
  credentials: Credentials,
): Promise<Answer> {
  const query = new URLSearchParams(request.query as [string, string][]).toString();
  const url = `${baseUrl}${requestPath(op, request.pathParams)}${query ? `?${query}` : ""}`;
  const headers: Record<string, string> = {};
  if (request.auth.kind === "default") {
    if (security === "bearer") headers["authorization"] = `Bearer ${credentials.bearer}`;
    if (security === "apiKey") headers["authorization"] = `Token ${credentials.apiKey}`;
  } else if (request.auth.kind === "header") {
    headers["authorization"] = request.auth.value;
  }
  const { payload, contentType } = encodeBody(request.body);
  if (contentType) headers["content-type"] = contentType;
  try {
    const response = await fetch(url, {
      method: op.method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
      signal: AbortSignal.timeout(60_000),
    });
    const type = response.headers.get("content-type");
    const text = await response.text();
    let body: unknown = text === "" ? undefined : text;
    if (text !== "" && type && /json/i.test(type)) {
      try {
        body = JSON.parse(text);
      } catch {
        // left as text: the contract check reports it
      }
    }
    return { status: response.status, contentType: type, body };
  } catch (error) {
    const cause = (error as { cause?: { message?: string; code?: string } }).cause;
    return {
      status: 0,
      contentType: null,
      body: undefined,
      error: `${(error as Error).message}${cause ? ` (${cause.code ?? ""} ${cause.message ?? ""})` : ""}`,
    };
  }
}

/**
 * The cursor of a page's `next` link, read as the contract documents it: the `pageIndex` query parameter of an
 * absolute URL. Undefined on the last page (no `next`) and for anything that is not a page.
 */
export function nextCursor(body: unknown): string | undefined {
  if (!body || typeof body !== "object" || !("next" in body) || typeof body.next !== "string") return undefined;
  try {
    return new URL(body.next).searchParams.get("pageIndex") || undefined;
  } catch {
    return undefined;
  }
}

export interface Failure {
  readonly operationId: string;
  readonly kind: MutationKind;
  readonly where: string;
  /** `5xx`, `accepted` (a 2xx/3xx), `no-answer`, `unexpected-status`, `contract` (the 4xx body or status is not the contract's), `state`. */
  readonly problem: "5xx" | "accepted" | "no-answer" | "unexpected-status" | "contract" | "state";
  readonly request: string;
  readonly status: number;
  readonly detail: string;
}

export class BadInputTally {
  requests = 0;
  readonly byStatus = new Map<number, number>();
  readonly byKind = new Map<MutationKind, number>();
  readonly byOperation = new Map<string, number>();
  fiveHundreds = 0;
  accepted = 0;
  /** Successes to requests the server may ignore the fault of (`tolerated`), checked against the contract. */
  tolerated = 0;
  readonly toleratedByKind = new Map<MutationKind, number>();
  /** `operationId kind where` of every request sent, so a run shows which required cases it reached. */
  readonly cases = new Map<string, number>();
  stateChanges = 0;
  contractViolations = 0;
  readonly failures: Failure[] = [];

  /**
   * `responses.allDeclaredPresent`: hold the answers to the emulator's guarantee too (every declared member present),
   * as the suites do for the emulator; a remote target's answers only to the contract.
   */
  constructor(
    private readonly contract: Contract,
    private readonly responses: ResponseValidationOptions = {},
  ) {}

  /** Judges one answer; returns the failure recorded, if any. */
  judge(op: Operation, invalid: InvalidRequest, answer: Answer): Failure | undefined {
    this.requests++;
    this.byStatus.set(answer.status, (this.byStatus.get(answer.status) ?? 0) + 1);
    this.byKind.set(invalid.kind, (this.byKind.get(invalid.kind) ?? 0) + 1);
    this.byOperation.set(op.operationId, (this.byOperation.get(op.operationId) ?? 0) + 1);
    const key = `${op.operationId} ${invalid.kind} ${invalid.where}`;
    this.cases.set(key, (this.cases.get(key) ?? 0) + 1);
    const fail = (problem: Failure["problem"], detail: string): Failure => {
      const failure: Failure = {
        operationId: op.operationId,
        kind: invalid.kind,
        where: invalid.where,
        problem,
        request: describeRequest(op, invalid.request),
        status: answer.status,
        detail,
      };
      this.failures.push(failure);
      return failure;
    };
    const body = (() => {
      const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
      return text === undefined ? "(no body)" : text.length > 300 ? `${text.slice(0, 300)}…` : text;
    })();
    if (answer.status === 0) return fail("no-answer", answer.error ?? "no answer");
    if (answer.status >= 500) {
      this.fiveHundreds++;
      return fail("5xx", body);
    }
    if (answer.status < 400 && invalid.tolerated && answer.status >= 200) {
      // Ignored, which the contract allows: the answer must still be the contract's success.
      this.tolerated++;
      this.toleratedByKind.set(invalid.kind, (this.toleratedByKind.get(invalid.kind) ?? 0) + 1);
      const violations = this.contract.validateResponse(op.operationId, answer.status, answer.contentType, answer.body, this.responses);
      if (violations.length === 0) return undefined;
      this.contractViolations++;
      return fail("contract", `${violations.map((v) => `${v.in}${v.pointer}: ${v.message}`).join("; ")}; body ${body}`);
    }
    if (answer.status < 400) {
      this.accepted++;
      return fail("accepted", body);
    }
    if (invalid.expectStatus && !invalid.expectStatus.includes(answer.status))
      return fail("unexpected-status", `expected ${invalid.expectStatus.join(" or ")}: ${body}`);
    const violations = this.contract.validateResponse(op.operationId, answer.status, answer.contentType, answer.body, this.responses);
    if (violations.length > 0) {
      this.contractViolations++;
      return fail("contract", `${violations.map((v) => `${v.in}${v.pointer}: ${v.message}`).join("; ")}; body ${body}`);
    }
    return undefined;
  }

  stateChanged(op: Operation, invalid: InvalidRequest | undefined, diff: string[]): void {
    this.stateChanges++;
    this.failures.push({
      operationId: op.operationId,
      kind: invalid?.kind ?? "wrong-type",
      where: invalid?.where ?? "(one of the operation's requests)",
      problem: "state",
      request: invalid ? describeRequest(op, invalid.request) : "(see the operation's requests)",
      status: 0,
      detail: diff.join("\n      "),
    });
  }

  /** How many requests of `kind` an operation got (at `where`, when given). */
  count(operationId: string, kind: MutationKind, where?: string): number {
    let total = 0;
    for (const [key, n] of this.cases) {
      const [id, k, ...rest] = key.split(" ");
      if (id === operationId && k === kind && (where === undefined || rest.join(" ") === where)) total += n;
    }
    return total;
  }

  /**
   * The cases every run must reach, as report lines: a submit over the batch limit, a request to every operation
   * that ran (getJwks included), an undeclared query parameter for each.
   */
  requiredCases(ran: readonly string[]): { lines: string[]; missing: string[] } {
    const missing: string[] = [];
    const tooMany = this.count("submitJobs", "too-many-items", "body");
    if (ran.includes("submitJobs") && tooMany === 0) missing.push("submitJobs: too-many-items at body (over maxItems batches)");
    const silent = ran.filter((id) => (this.byOperation.get(id) ?? 0) === 0);
    missing.push(...silent.map((id) => `${id}: no request at all`));
    const undeclared = ran.filter((id) => this.count(id, "undeclared-query") > 0);
    missing.push(...ran.filter((id) => !undeclared.includes(id)).map((id) => `${id}: no undeclared-query case`));
    const lines = [
      `  submitJobs too-many-items at body: ${ran.includes("submitJobs") ? tooMany : "skipped (not run)"}   getJwks: ${ran.includes("getJwks") ? `${this.byOperation.get("getJwks") ?? 0} request(s)` : "skipped (not run)"}`,
      `  operations with a request: ${ran.length - silent.length}/${ran.length}   with an undeclared query parameter: ${undeclared.length}/${ran.length} (ignored with a 2xx: ${this.toleratedByKind.get("undeclared-query") ?? 0})`,
    ];
    return { lines, missing };
  }

  summary(seed: number, elapsedMs: number): string {
    const statuses = [...this.byStatus].sort(([a], [b]) => a - b);
    const fourxx = statuses.filter(([s]) => s >= 400 && s < 500).map(([s, n]) => `${s}×${n}`);
    const other = statuses.filter(([s]) => s < 400 || s >= 500).map(([s, n]) => `${s === 0 ? "no answer" : s}×${n}`);
    const total = statuses.filter(([s]) => s >= 400 && s < 500).reduce((sum, [, n]) => sum + n, 0);
    const kinds = [...this.byKind].sort(([, a], [, b]) => b - a).map(([k, n]) => `${k} ${n}`);
    return [
      `bad input: seed ${seed} (HTC_CONTRACT_SEED=${seed} reproduces it), ${this.requests} requests in ${(elapsedMs / 1000).toFixed(1)} s over ${this.byOperation.size} operations`,
      `  4xx: ${total} (${fourxx.join(", ") || "none"})`,
      `  5xx: ${this.fiveHundreds}   accepted (2xx/3xx): ${this.accepted}   not 4xx, by status: ${other.join(", ") || "none"}` +
        (this.tolerated > 0
          ? ` (${this.tolerated} of them tolerated, a 2xx the contract allows: ${[...this.toleratedByKind].map(([k, n]) => `${k} ${n}`).join(", ")})`
          : ""),
      `  contract violations in 4xx answers: ${this.contractViolations}   state changes: ${this.stateChanges}`,
      `  by kind: ${kinds.join(", ")}`,
    ].join("\n");
  }
}

export function formatFailure(f: Failure): string {
  return `${f.operationId} [${f.kind} at ${f.where}] ${f.problem}${f.status ? ` (${f.status})` : ""}\n      request:  ${f.request}\n      response: ${f.detail}`;
}

/** A stable 32-bit seed per operation, so each operation's cases do not depend on the others'. */
export function operationSeed(seed: number, operationId: string): number {
  let hash = seed >>> 0;
  for (const char of operationId) hash = (Math.imul(hash ^ char.charCodeAt(0), 16777619) + 0x9e3779b9) >>> 0;
  return hash | 0;
}
