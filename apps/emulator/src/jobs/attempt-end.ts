// The end of an attempt, as the executor reports it (or a step of the test controls decides it): the job ends
// SUCCEEDED or FAILED with the failureCode and reason of jobs/outcomes.ts and gives its vCPUs back, or, when it
// failed in a way its retry strategy covers and attempts are left, goes back to RUNNABLE at the head of its
// task's queue (the attempt is kept in `job_attempts`).
import type { JobStateRepository } from "../db/repositories/job-states.js";
import type { JobOutcome } from "./executor.js";
import { endingOf } from "./outcomes.js";
import type { SchedulerBooks } from "./scheduler-books.js";
import { JobStatus } from "./status.js";

/** Where finished jobs are counted (the metrics' counters). */
export interface FinishedJobsCounter {
  inc(workspaceId: string, name: "htc_jobs_finished_total", labels: { status: "SUCCEEDED" | "FAILED" }): void;
}

export function endAttempt(
  books: SchedulerBooks,
  states: JobStateRepository,
  counters: FinishedJobsCounter,
  seq: number,
  outcome: JobOutcome,
  at: number,
): void {
  const record = states.attemptRecord(seq);
  if (!record || (record.status !== JobStatus.STARTING && record.status !== JobStatus.RUNNING)) return;
  const attempt = books.inFlight.remove(seq);
  // A cancelled job stays cancelled, whatever its process did while it was being stopped.
  const effective: JobOutcome =
    attempt?.cancelRequested && outcome.kind !== "cancelled"
      ? { kind: "cancelled", exitCode: "exitCode" in outcome ? outcome.exitCode : null }
      : outcome;
  const ending = endingOf(effective, { memoryMiB: attempt?.memoryMiB ?? 0, execTimeoutSeconds: attempt?.execTimeoutSeconds ?? 0 });
  if (ending.status === JobStatus.FAILED && ending.retryable && record.attempt <= books.batch(record.batch_seq).max_retries) {
    states.retry(seq, record, ending, at);
    if (attempt) books.runnable.pushFront(attempt.run);
    return;
  }
  states.finish(seq, ending, at);
  if (attempt) books.vcpus.release(attempt.run, attempt.run.vcpus);
  counters.inc(attempt?.run.workspaceId ?? "", "htc_jobs_finished_total", {
    status: ending.status === JobStatus.SUCCEEDED ? "SUCCEEDED" : "FAILED",
  });
}
