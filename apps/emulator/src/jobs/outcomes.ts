// How the end of an attempt shows in a job: status, failureCode, statusReason and container details.
import type { JobOutcome } from "./executor.js";
import { JobStatus } from "./status.js";

export interface Ending {
  status: typeof JobStatus.SUCCEEDED | typeof JobStatus.FAILED;
  failureCode: string | null;
  reason: string;
  exitCode: number | null;
  containerReason: string | null;
  cancelled: boolean;
  /** Whether a retry strategy may run the job again after this ending. */
  retryable: boolean;
}

export const CANCELLED_REASON = "Cancelled by user";

export function endingOf(outcome: JobOutcome, limits: { memoryMiB: number; execTimeoutSeconds: number }): Ending {
  switch (outcome.kind) {
    case "exited":
      if (outcome.oomKilled) {
        return {
          status: JobStatus.FAILED,
          failureCode: "ErrorNotEnoughMemory",
          reason: `OutOfMemoryError: the container used more than its ${limits.memoryMiB} MiB of memory`,
          exitCode: outcome.exitCode,
          containerReason: "OutOfMemoryError: Container killed due to memory usage",
          cancelled: false,
          retryable: true,
        };
      }
      if (outcome.exitCode === 0) {
        return {
          status: JobStatus.SUCCEEDED,
          failureCode: null,
          reason: "Completed",
          exitCode: 0,
          containerReason: "Container exited",
          cancelled: false,
          retryable: false,
        };
      }
      return {
        status: JobStatus.FAILED,
        failureCode: "ErrorNonZeroContainerExitCode",
        reason: `Essential container in task exited with code ${outcome.exitCode}`,
        exitCode: outcome.exitCode,
        containerReason: "Container exited",
        cancelled: false,
        retryable: true,
      };
    case "timeout":
      return {
        status: JobStatus.FAILED,
        failureCode: "ErrorTimeout",
        reason: `Job attempt duration exceeded timeout of ${limits.execTimeoutSeconds} seconds`,
        exitCode: outcome.exitCode,
        containerReason: outcome.exitCode === null ? null : "Container killed after the execution timeout",
        cancelled: false,
        retryable: true,
      };
    case "cancelled":
      return {
        status: JobStatus.FAILED,
        failureCode: null,
        reason: CANCELLED_REASON,
        exitCode: outcome.exitCode,
        containerReason: outcome.exitCode === null ? null : "Container stopped by a cancellation",
        cancelled: true,
        retryable: false,
      };
    case "start-failed":
      return {
        status: JobStatus.FAILED,
        failureCode: "ErrorStartingContainer",
        reason: outcome.reason,
        exitCode: null,
        containerReason: null,
        cancelled: false,
        retryable: true,
      };
    case "vanished":
      return {
        status: JobStatus.FAILED,
        failureCode: "ErrorInfrastructureFault",
        reason: `Container vanished: ${outcome.reason}`,
        exitCode: null,
        containerReason: null,
        cancelled: false,
        retryable: true,
      };
  }
}
