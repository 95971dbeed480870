// The job statuses in lifecycle order, as a value that code can iterate (charts, CLI choices, the emulator's
// status codes), checked against the contract's RescaleJobStatus so the list cannot drift from it.
import type { components } from "@htcemu/openapi/types";

export type RescaleJobStatus = components["schemas"]["RescaleJobStatus"];

/**
 * The statuses a job passes through, in order. The contract's enum also has POD_SUCCEEDED and POD_FAILED, which
 * production reports rarely and which this list leaves out: they are terminal like SUCCEEDED and FAILED.
 */
export const JOB_STATUSES = [
  "SUBMITTED_TO_RESCALE",
  "SUBMITTED_TO_PROVIDER",
  "RUNNABLE",
  "STARTING",
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
] as const satisfies readonly RescaleJobStatus[];

const TERMINAL: ReadonlySet<string> = new Set<RescaleJobStatus>(["SUCCEEDED", "FAILED", "POD_SUCCEEDED", "POD_FAILED"]);

/** SUCCEEDED and FAILED end a job (cancelled jobs end FAILED); the rarely seen POD_* values count too. */
export function isTerminalStatus(status: string | null | undefined): boolean {
  return status != null && TERMINAL.has(status);
}
