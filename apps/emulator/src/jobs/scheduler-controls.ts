// The scheduler's test controls (admin API, fault rules, reset and snapshots), apart from the loop they steer:
//   hold      a RUNNABLE job kept off the queues at dispatch, with a tag, until release() selects it;
//   step      one job moved a status along by hand, ignoring limits and capacity, while the scheduler is paused;
//   discard   the jobs of a workspace (or all) forgotten before their rows are deleted or replaced, their
//             attempts stopped;
//   suspend   admission and dispatch stopped until the returned function is called.
import type { Clock } from "../clock.js";
import type { Db } from "../db/database.js";
import type { Repositories } from "../db/repositories/index.js";
import type { Executor, ExecutorEvents, JobOutcome } from "./executor.js";
import type { Run } from "./queues.js";
import type { SchedulerBooks } from "./scheduler-books.js";
import { JobStatus } from "./status.js";

/** What the controls need of the scheduler they steer. */
export interface ControlledScheduler {
  db: Db;
  clock: Clock;
  repos: Pick<Repositories, "jobStates" | "tasks" | "projects">;
  books: SchedulerBooks;
  events: ExecutorEvents;
  executor(): Executor;
  /** Records the end of an attempt (see attempt-end.ts). */
  end(seq: number, outcome: JobOutcome, at: number): void;
  /** Runs a tick soon. */
  poke(): void;
  log?(line: string): void;
  /** Asked before a RUNNABLE job is dispatched: a returned tag holds the job (fault rules). */
  hold?(seq: number): string | undefined;
}

export type StepResult = { status: number } | { refused: string };

export class SchedulerControls {
  /** Jobs kept RUNNABLE by `hold`, with its tag and the run to queue again on release. */
  private readonly held = new Map<number, { tag: string; run: Run }>();
  /** Jobs stepped by hand into SUBMITTED_TO_PROVIDER, STARTING or RUNNING: no executor runs them until handBack(). */
  private readonly stepped = new Map<number, Run>();
  /** Attempts of discarded jobs whose end the executor has yet to report, and what to call when it does. */
  private readonly discarded = new Map<number, () => void>();
  private suspensions = 0;

  constructor(private readonly scheduler: ControlledScheduler) {}

  /** Counts for the admin API. */
  get state(): { held: number; stepped: number } {
    return { held: this.held.size, stepped: this.stepped.size };
  }

  // --- hold and release ---------------------------------------------------------------------------------------

  /** At dispatch: whether the hook holds the job (then it stays RUNNABLE, off the queues). */
  holds(job: Run): boolean {
    const tag = this.scheduler.hold?.(job.from);
    if (tag === undefined) return false;
    this.held.set(job.from, { tag, run: job });
    return true;
  }

  /** The tag the hook gave a job it holds, if it still holds it. */
  heldTag(seq: number): string | undefined {
    return this.held.get(seq)?.tag;
  }

  /** Queues held jobs again (at the front, in the order they were held), those `which` selects; returns them. */
  release(which: (seq: number, tag: string) => boolean): number[] {
    const released: number[] = [];
    for (const [seq, { tag }] of this.held) if (which(seq, tag)) released.push(seq);
    for (const seq of [...released].reverse()) {
      const { run } = this.held.get(seq)!;
      this.held.delete(seq);
      this.scheduler.books.runnable.pushFront(run);
    }
    if (released.length) this.scheduler.poke();
    return released;
  }

  // --- suspend ------------------------------------------------------------------------------------------------

  get suspended(): boolean {
    return this.suspensions > 0;
  }

  /** Stops admission and dispatch until the returned function is called (nestable). */
  suspend(): () => void {
    this.suspensions++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.suspensions--;
      this.scheduler.poke();
    };
  }

  // --- step -----------------------------------------------------------------------------------------------------

  /**
   * Moves one job a status along SUBMITTED_TO_RESCALE → SUBMITTED_TO_PROVIDER → RUNNABLE → STARTING → RUNNING →
   * its end, by hand and stamped with the clock, ignoring limits and capacity. A job stepped into STARTING is
   * not handed to the executor (handBack() does that); RUNNING → end records `end` (a retryable failure puts the
   * job back to RUNNABLE, as any end does). `limits` are the job's, for the end's reason. Returns the status
   * after the move, or why the job cannot move.
   */
  step(seq: number, end: JobOutcome, limits: { memoryMiB: number; execTimeoutSeconds: number }): StepResult {
    const { db, clock, books } = this.scheduler;
    const states = this.scheduler.repos.jobStates;
    const place = states.place(seq);
    if (!place) return { refused: "the job does not exist" };
    const now = clock.now();
    return db.transaction((): StepResult => {
      switch (place.status) {
        case JobStatus.SUBMITTED_TO_RESCALE: {
          // Admitted by hand: the job's vCPUs count against its project and workspace from now on.
          const run = books.runOf(place);
          states.stepToProvider(seq, now);
          books.vcpus.add(run, run.vcpus);
          this.stepped.set(seq, run);
          return { status: JobStatus.SUBMITTED_TO_PROVIDER };
        }
        case JobStatus.SUBMITTED_TO_PROVIDER: {
          const run = this.stepped.get(seq) ?? books.runOf(place);
          states.stepToRunnable(seq, now);
          this.stepped.delete(seq);
          // Queued, so that the scheduler dispatches it once resumed (an older queue entry is skipped then).
          books.runnable.push(run);
          return { status: JobStatus.RUNNABLE };
        }
        case JobStatus.RUNNABLE: {
          const run = books.runOf(place);
          this.held.delete(seq);
          states.stepToStarting(seq, now);
          books.inFlight.add(run, limits.memoryMiB, limits.execTimeoutSeconds, undefined);
          this.stepped.set(seq, run);
          return { status: JobStatus.STARTING };
        }
        case JobStatus.STARTING:
          if (!this.stepped.has(seq)) return { refused: "the executor is starting it (it was dispatched before the pause)" };
          states.stepToRunning(seq, `step-${seq.toString(16)}`, now);
          return { status: JobStatus.RUNNING };
        case JobStatus.RUNNING: {
          if (!this.stepped.has(seq)) return { refused: "the executor is running it (it was dispatched before the pause)" };
          this.stepped.delete(seq);
          this.scheduler.end(seq, end, now);
          return { status: states.place(seq)!.status };
        }
        default:
          return { refused: "the job has finished" };
      }
    })();
  }

  /**
   * Hands the jobs left mid-way by step() back (when the scheduler resumes): SUBMITTED_TO_PROVIDER ones become
   * RUNNABLE and queued, inside the caller's transaction; STARTING and RUNNING ones are returned, for the
   * executor to run once the transaction committed.
   */
  handBack(now: number): number[] {
    const states = this.scheduler.repos.jobStates;
    const { books } = this.scheduler;
    const launches: number[] = [];
    for (const [seq, run] of this.stepped) {
      const status = states.place(seq)?.status;
      if (status === JobStatus.SUBMITTED_TO_PROVIDER) {
        states.stepToRunnable(seq, now);
        books.runnable.push(run);
      } else if ((status === JobStatus.STARTING || status === JobStatus.RUNNING) && books.inFlight.get(seq)) {
        launches.push(seq);
      }
    }
    this.stepped.clear();
    return launches;
  }

  /** Forgets a stepped job (it was cancelled): true if it was one, whose end no executor will report. */
  forgetStepped(seq: number): boolean {
    return this.stepped.delete(seq);
  }

  // --- discard ----------------------------------------------------------------------------------------------------

  /** Whether reports of the job's attempt are to be dropped; a `finished` report settles the discard's wait. */
  dropsReportOf(seq: number, finished: boolean): boolean {
    const settle = this.discarded.get(seq);
    if (!settle) return false;
    if (finished) {
      this.discarded.delete(seq);
      settle();
    }
    return true;
  }

  /** A launch found its job discarded meanwhile: nothing will run, so nothing will report. */
  launchDropped(seq: number): void {
    this.dropsReportOf(seq, true);
  }

  /**
   * Forgets the jobs of one workspace, or of all, whose rows the caller is about to delete or replace: their
   * queue entries, held and stepped state, vCPU usage and cached facts; their attempts in flight are stopped in
   * the executor. Synchronous up to the returned promise, so the caller changes the rows right after the call;
   * the promise resolves once the executor reported the end of every stopped attempt (or after `timeoutMs`).
   * Until then nothing is admitted or dispatched, so a new job reusing a seq never meets an old attempt, and
   * reports of the stopped attempts are dropped.
   */
  discard(workspaceId?: string, timeoutMs = 30_000): Promise<void> {
    const { books, repos } = this.scheduler;
    const all = workspaceId === undefined;
    const mine = (run: Run) => all || run.workspaceId === workspaceId;
    if (all) {
      books.pending.clear();
      books.runnable.clear();
    } else {
      for (const seq of repos.tasks.seqsOfWorkspace(workspaceId)) {
        books.pending.dropTask(seq);
        books.runnable.dropTask(seq);
      }
    }
    for (const [seq, held] of this.held) if (mine(held.run)) this.held.delete(seq);
    const waits: Promise<void>[] = [];
    for (const [seq, attempt] of books.inFlight.entries()) {
      if (!mine(attempt.run)) continue;
      books.inFlight.remove(seq);
      if (this.stepped.has(seq)) continue; // no executor knows it
      waits.push(new Promise<void>((resolve) => this.discarded.set(seq, resolve)));
      this.scheduler.executor().cancel(seq);
    }
    for (const [seq, run] of this.stepped) if (mine(run)) this.stepped.delete(seq);
    if (all) books.vcpus.clear();
    else
      books.vcpus.forgetWorkspace(
        workspaceId,
        repos.projects.ofWorkspace(workspaceId).map((p) => p.id),
      );
    books.forgetFacts();
    if (waits.length === 0) return Promise.resolve();
    const resume = this.suspend();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.scheduler.log?.(`${this.discarded.size} discarded attempt(s) did not report their end within ${timeoutMs} ms`);
        done();
      }, timeoutMs);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resume();
        resolve();
      };
      Promise.all(waits).then(done);
    });
  }
}
