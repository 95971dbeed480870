// How each way an attempt can end shows in the job: status, failureCode, reason, container details, and
// whether a retry strategy may run it again.
import { describe, expect, it } from "vitest";
import { CANCELLED_REASON, endingOf } from "../../src/jobs/outcomes.js";
import { JobStatus } from "../../src/jobs/status.js";

const limits = { memoryMiB: 512, execTimeoutSeconds: 90 };

describe("endingOf", () => {
  it("succeeds only on exit code 0", () => {
    expect(endingOf({ kind: "exited", exitCode: 0, oomKilled: false }, limits)).toEqual({
      status: JobStatus.SUCCEEDED,
      failureCode: null,
      reason: "Completed",
      exitCode: 0,
      containerReason: "Container exited",
      cancelled: false,
      retryable: false,
    });
    expect(endingOf({ kind: "exited", exitCode: 3, oomKilled: false }, limits)).toMatchObject({
      status: JobStatus.FAILED,
      failureCode: "ErrorNonZeroContainerExitCode",
      reason: "Essential container in task exited with code 3",
      exitCode: 3,
      retryable: true,
    });
  });

  it("tells memory, timeout, start and infrastructure failures apart, each retryable", () => {
    const cases = [
      [
        { kind: "exited", exitCode: 137, oomKilled: true },
        "ErrorNotEnoughMemory",
        "OutOfMemoryError: the container used more than its 512 MiB of memory",
      ],
      [{ kind: "timeout", exitCode: 137 }, "ErrorTimeout", "Job attempt duration exceeded timeout of 90 seconds"],
      [
        { kind: "start-failed", reason: "CannotPullContainerError: no such image" },
        "ErrorStartingContainer",
        "CannotPullContainerError: no such image",
      ],
      [
        { kind: "vanished", reason: "the container was removed" },
        "ErrorInfrastructureFault",
        "Container vanished: the container was removed",
      ],
    ] as const;
    for (const [outcome, failureCode, reason] of cases) {
      expect(endingOf(outcome, limits)).toMatchObject({ status: JobStatus.FAILED, failureCode, reason, cancelled: false, retryable: true });
    }
    expect(endingOf({ kind: "timeout", exitCode: null }, limits).containerReason).toBeNull();
  });

  it("marks a cancellation, which is never retried", () => {
    expect(endingOf({ kind: "cancelled", exitCode: 143 }, limits)).toEqual({
      status: JobStatus.FAILED,
      failureCode: null,
      reason: CANCELLED_REASON,
      exitCode: 143,
      containerReason: "Container stopped by a cancellation",
      cancelled: true,
      retryable: false,
    });
    expect(endingOf({ kind: "cancelled", exitCode: null }, limits).containerReason).toBeNull();
  });
});
