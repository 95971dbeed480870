// The two moves of a scheduler tick, inside its transaction:
//   admit     SUBMITTED_TO_RESCALE → RUNNABLE (SUBMITTED_TO_PROVIDER recorded) for as many jobs as the project and
//             workspace vCPU caps let in, round-robin over tasks;
//   dispatch  RUNNABLE → STARTING for as many jobs as the executor has room for, on-demand before economy,
//             round-robin over tasks. The dispatched jobs are launched once the transaction committed.
import type { JobStateRepository } from "../db/repositories/job-states.js";
import type { Run } from "./queues.js";
import type { SchedulerBooks } from "./scheduler-books.js";

/** Admits up to `budget` jobs. */
export function admit(books: SchedulerBooks, states: JobStateRepository, now: number, budget: number): void {
  const { pending, vcpus } = books;
  vcpus.refreshCaps();
  // A task whose project or workspace is full is skipped; once every task was skipped in a row, nothing fits.
  let blockedInARow = 0;
  while (budget > 0 && !pending.isEmpty && blockedInARow <= pending.taskCount) {
    const run = pending.next();
    if (!run) break;
    const allowed = Math.min(vcpus.admissible(run, run.vcpus, run.to - run.from), budget);
    if (allowed <= 0) {
      blockedInARow++;
      continue;
    }
    blockedInARow = 0;
    const from = run.from;
    // Jobs cancelled while queued are not admitted and hold no vCPUs; their queue entries are skipped at dispatch.
    const admitted = states.admit(from, from + allowed, now);
    vcpus.add(run, admitted * run.vcpus);
    books.runnable.push({ ...run, from, to: from + allowed });
    pending.consume(run, allowed);
    budget -= allowed;
  }
}

/** The job `seq` of `run`, as a run of its own (written out: dispatch makes one per job). */
function single(run: Run, seq: number): Run {
  return {
    taskSeq: run.taskSeq,
    batchSeq: run.batchSeq,
    from: seq,
    to: seq + 1,
    vcpus: run.vcpus,
    priority: run.priority,
    projectId: run.projectId,
    workspaceId: run.workspaceId,
  };
}

/**
 * Dispatches up to `budget` jobs and returns their seqs. `hold` may keep a job RUNNABLE and off the queues
 * (test controls, fault rules): it then returns true.
 */
export function dispatch(
  books: SchedulerBooks,
  states: JobStateRepository,
  now: number,
  budget: number,
  hold: (job: Run) => boolean,
): number[] {
  const launches: number[] = [];
  for (const queue of books.runnable.byPriority) {
    while (budget > 0) {
      const run = queue.next();
      if (!run) break;
      if (!books.inFlight.fits(run.vcpus)) return launches;
      const job = single(run, run.from);
      queue.consume(run, 1);
      if (hold(job)) continue;
      if (!states.start(job.from, now)) continue; // cancelled while queued
      // The job's limits are known once its launch is built (Scheduler.track); a first attempt has no output yet.
      books.inFlight.add(job, 0, 0, 0);
      launches.push(job.from);
      budget--;
    }
  }
  return launches;
}
