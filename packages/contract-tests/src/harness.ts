// The client the suite talks through: the public @htcemu/client, whose fetch is the contract's validatingFetch,
// so every request is checked before it leaves and every response (status, content type, body) before the test
// sees it; a violation throws. Coverage is recorded on the way. The emulator's responses are also held to its own
// guarantee that every declared member is present (`null` when unset); production's only to the contract.
import { createHtcClient, type HtcClient } from "@htcemu/client";
import { type Contract, type Coverage, createCoverage, loadContract } from "@htcemu/contract";
import { type FetchLike, validatingFetch, type ViolationReport } from "@htcemu/contract/testing";
import type { Target } from "./target.js";

export const contract: Contract = loadContract();

export interface SuiteClientOptions {
  coverage?: Coverage;
  /** Credentials: the target's API key (default), a bearer token, or none. */
  auth?: "apiKey" | "none" | { bearerToken: string };
  /** Check requests too (default true). */
  validateRequests?: boolean;
  /** Collect violations instead of throwing. */
  onViolation?: (report: ViolationReport) => void;
}

/**
 * The answers held to the emulator's always-send guarantee (every member a response object declares is present,
 * `null` when unset), recorded like coverage. A suite compares it with its own coverage to show that no answer it
 * saw escaped that check; the check itself is validatingFetch's `allDeclaredPresent`.
 */
export const heldToAlwaysSend: Coverage = createCoverage(contract);

/** The coverage a suite's fetch records into: the suite's, and, for the emulator, heldToAlwaysSend as well. */
function recordingFor(target: Target, coverage: Coverage | undefined): Coverage | undefined {
  if (target.kind !== "emulator") return coverage;
  if (!coverage) return heldToAlwaysSend;
  return {
    record: (operationId, status) => {
      coverage.record(operationId, status);
      heldToAlwaysSend.record(operationId, status);
    },
    covered: (options) => coverage.covered(options),
    missing: (options) => coverage.missing(options),
    summary: (options) => coverage.summary(options),
    toJSON: () => coverage.toJSON(),
    merge: (records) => coverage.merge(records),
  };
}

export function suiteClient(target: Target, options: SuiteClientOptions = {}): HtcClient {
  const recording = recordingFor(target, options.coverage);
  const fetch = validatingFetch(contract, {
    allDeclaredPresent: target.kind === "emulator",
    ...(recording ? { coverage: recording } : {}),
    ...(options.validateRequests === false ? { validateRequests: false } : {}),
    ...(options.onViolation ? { onViolation: options.onViolation } : {}),
  });
  const auth = options.auth ?? "apiKey";
  const credentials = auth === "apiKey" ? { apiKey: target.apiKey } : auth === "none" ? {} : { bearerToken: auth.bearerToken };
  return createHtcClient({
    baseUrl: target.baseUrl,
    ...credentials,
    fetch: fetch as (request: Request) => Promise<Response>,
    // The emulator answers at once; against a remote target transient failures are retried (idempotent calls).
    retry: target.kind === "emulator" ? false : undefined,
    timeoutMs: 120_000,
  });
}

export function newCoverage(): Coverage {
  return createCoverage(contract);
}

/** A plain fetch whose exchanges are checked against the contract (for URLs the typed client cannot build). */
export function checkedFetch(target: Target, coverage?: Coverage): FetchLike {
  const recording = recordingFor(target, coverage);
  return validatingFetch(contract, { allDeclaredPresent: target.kind === "emulator", ...(recording ? { coverage: recording } : {}) });
}

/** `covered 55/57 (missing: …)` plus the statuses seen per operation, for the log. */
export function coverageReport(
  coverage: Coverage,
  expected: readonly string[],
  notServed: readonly string[],
  skipped: ReadonlyMap<string, string>,
): string {
  const lines = [coverage.summary()];
  const covered = new Set(coverage.covered());
  const missingServed = expected.filter((id) => !covered.has(id) && !skipped.has(id));
  const ok = coverage.covered({ successOnly: true }).length;
  lines.push(`  with a 2xx answer: ${ok}/${contract.operationIds.length}`);
  if (notServed.length > 0) lines.push(`  not served by the target (${notServed.length}): ${notServed.join(", ")}`);
  const byReason = new Map<string, string[]>();
  for (const [id, reason] of skipped) if (!covered.has(id)) byReason.set(reason, [...(byReason.get(reason) ?? []), id]);
  for (const [reason, ids] of byReason) lines.push(`  skipped (${ids.length}) ${ids.join(", ")}: ${reason}`);
  if (missingServed.length > 0) lines.push(`  MISSING although served (${missingServed.length}): ${missingServed.join(", ")}`);
  const statuses = coverage
    .toJSON()
    .map((r) => `${r.operationId} ${r.statuses.join("/")}`)
    .sort();
  lines.push(`  statuses: ${statuses.join(", ")}`);
  return lines.join("\n");
}
