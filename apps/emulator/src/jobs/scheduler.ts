// The scheduler: one loop that moves jobs through their lifecycle.
//   SUBMITTED_TO_RESCALE --admission (project and workspace vCPU limits)--> RUNNABLE (via SUBMITTED_TO_PROVIDER)
//   RUNNABLE --dispatch (executor capacity; on-demand before economy; round-robin over tasks)--> STARTING
//   STARTING --executor--> RUNNING --executor--> SUCCEEDED | FAILED (or back to RUNNABLE for a retry)
// Executors report asynchronously (executor-reports.ts); each tick records the reports, admits and dispatches
// (admission.ts) inside one SQLite transaction, then hands the dispatched jobs to the executor. Every state change
// is committed before anything acts on it, so a crash at any point loses no job and runs none twice (see
// recover()). What the loop knows in memory is in scheduler-books.ts; the test controls in scheduler-controls.ts.
import type { Core } from "../core.js";
import { admit, dispatch } from "./admission.js";
import { endAttempt } from "./attempt-end.js";
import type { Executor, ExecutorEvents, JobLaunch, JobOutcome } from "./executor.js";
import { ExecutorReports } from "./executor-reports.js";
import { CANCELLED_REASON } from "./outcomes.js";
import type { Run } from "./queues.js";
import { SchedulerBooks } from "./scheduler-books.js";
import { SchedulerControls } from "./scheduler-controls.js";
import { JobStatus } from "./status.js";

export interface SchedulerOptions {
  /** How often the loop runs when nothing pokes it. */
  tickMs?: number;
  /** Most jobs admitted per tick (keeps one transaction short when a million jobs wait). */
  admissionPerTick?: number;
  /** Most jobs dispatched per tick (each starts an asynchronous launch). */
  dispatchPerTick?: number;
  /** Most executor reports applied per tick. */
  inboxPerTick?: number;
  /** Builds what the executor needs to run an attempt (environment, tokens, image). */
  buildLaunch: (seq: number) => Promise<JobLaunch>;
  /** Makes the executor, which reports into the scheduler's `events`. */
  makeExecutor: (events: ExecutorEvents) => Executor;
  log?: (line: string) => void;
  /**
   * Test control (fault injection): asked before a RUNNABLE job is dispatched. A returned tag keeps the job
   * RUNNABLE, off the queues, until `controls.release()` selects it.
   */
  hold?: (seq: number) => string | undefined;
}

export class Scheduler {
  private readonly books: SchedulerBooks;
  private readonly reports: ExecutorReports;
  /** Hold, step, discard, suspend (test controls). */
  readonly controls: SchedulerControls;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private paused = false;
  private closed = false;
  readonly executor: Executor;

  constructor(
    private readonly s: Core,
    private readonly options: SchedulerOptions,
  ) {
    this.books = new SchedulerBooks(s.repos.jobStates, s.repos, () => this.executor.capacityVcpus);
    this.reports = new ExecutorReports(
      () => this.poke(),
      () => !this.closed,
    );
    this.controls = new SchedulerControls({
      db: s.db,
      clock: s.clock,
      repos: s.repos,
      books: this.books,
      events: this.reports.events,
      executor: () => this.executor,
      end: (seq, outcome, at) => this.end(seq, outcome, at),
      poke: () => this.poke(),
      log: options.log,
      hold: options.hold,
    });
    this.executor = options.makeExecutor(this.reports.events);
  }

  /** What executors report to. */
  get events(): ExecutorEvents {
    return this.reports.events;
  }

  /** Rebuilds the queues and usage from the database and re-attaches to attempts in flight. */
  async recover(): Promise<void> {
    const states = this.s.repos.jobStates;
    // Only step() leaves jobs in SUBMITTED_TO_PROVIDER; dispatch expects RUNNABLE.
    states.releaseStepped(this.s.clock.now());
    const inFlight: number[] = [];
    for (const job of states.unfinished()) {
      const run = this.books.runOf(job);
      if (job.status === JobStatus.SUBMITTED_TO_RESCALE) {
        this.books.pending.push(run);
        continue;
      }
      this.books.vcpus.add(run, run.vcpus);
      if (job.status <= JobStatus.RUNNABLE) this.books.runnable.push(run);
      else inFlight.push(job.seq);
    }
    const launches: JobLaunch[] = [];
    for (const seq of inFlight) {
      const launch = await this.options.buildLaunch(seq);
      this.track(launch);
      launches.push(launch);
    }
    if (launches.length) {
      this.options.log?.(`re-attaching to ${launches.length} job(s) that were starting or running`);
      await this.executor.recover(launches, { lastLogAt: (seq) => this.s.repos.jobs.lastLogAt(seq) });
    }
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.options.tickMs ?? 100);
    this.timer.unref();
    this.poke();
  }

  /** Runs a tick soon (new jobs, executor news). */
  poke(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.tick();
    });
  }

  pause(): void {
    this.paused = true;
  }

  /** Also hands jobs left mid-way by step() to the scheduler and the executor, which take them from there. */
  resume(): void {
    this.paused = false;
    const launches = this.s.db.transaction(() => this.controls.handBack(this.s.clock.now()))();
    for (const seq of launches) this.launch(seq);
    this.poke();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** What the scheduler handles right now. */
  get state(): { paused: boolean; executing: number; held: number; stepped: number } {
    return { paused: this.paused, executing: this.books.inFlight.size, ...this.controls.state };
  }

  /** New batches were stored: queue them for admission. */
  enqueueSubmitted(runs: Run[]): void {
    for (const run of runs) this.books.pending.push(run);
    this.poke();
  }

  /**
   * Cancels the unfinished jobs of a task (optionally of one group or of some jobs), inside the caller's
   * transaction: queued jobs fail at once; starting and running attempts are stopped by the executor, and
   * fail when it reports back.
   */
  cancel(filter: { taskSeq: number; groupId?: number; seqs?: number[] }, at: number): { queued: number; running: number } {
    const { admittedPerBatch, cancelled, inFlight } = this.s.repos.jobStates.cancelQueued(filter, CANCELLED_REASON, at);
    // Admitted jobs hold vCPUs of their project and workspace: give them back.
    const task = this.books.task(filter.taskSeq);
    const owner = { projectId: task.project_id, workspaceId: task.workspace_id };
    for (const { batch_seq, n } of admittedPerBatch) this.books.vcpus.release(owner, this.books.batch(batch_seq).vcpus * n);
    // Queued jobs end here, not through the executor's report: count them as finished (FAILED) now.
    if (cancelled > 0) this.s.counters.inc(task.workspace_id, "htc_jobs_finished_total", { status: "FAILED" }, cancelled);
    for (const seq of inFlight) {
      if (this.controls.forgetStepped(seq)) {
        // Stepped by hand: no executor runs it, so its end is known now.
        this.events.finished(seq, { kind: "cancelled", exitCode: null }, at);
        continue;
      }
      const attempt = this.books.inFlight.get(seq);
      if (attempt && !attempt.cancelRequested) {
        attempt.cancelRequested = true;
        this.executor.cancel(seq);
      }
    }
    if (filter.groupId === undefined && !filter.seqs) {
      this.books.pending.dropTask(filter.taskSeq);
      this.books.runnable.dropTask(filter.taskSeq);
    }
    this.poke();
    return { queued: cancelled, running: inFlight.length };
  }

  /** Records executor reports, admits and dispatches. Synchronous: one transaction per tick. */
  tick(): void {
    if (this.closed) return;
    const states = this.s.repos.jobStates;
    let launches: number[] = [];
    try {
      this.s.db.transaction(() => {
        this.reports.apply(this.options.inboxPerTick ?? 15_000, {
          jobs: this.s.repos.jobs,
          states,
          inFlight: this.books.inFlight,
          dropped: (seq, finished) => this.controls.dropsReportOf(seq, finished),
          end: (seq, outcome, at) => this.end(seq, outcome, at),
        });
        if (this.paused || this.controls.suspended) return;
        const now = this.s.clock.now();
        admit(this.books, states, now, this.options.admissionPerTick ?? 50_000);
        launches = dispatch(this.books, states, now, this.options.dispatchPerTick ?? 5_000, (job) => this.controls.holds(job));
      })();
    } catch (error) {
      this.options.log?.(`scheduler tick failed: ${(error as Error).stack ?? error}`);
      return;
    } finally {
      if (this.reports.waiting) this.poke();
    }
    for (const seq of launches) this.launch(seq);
  }

  async close(mode: "detach" | "stop"): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.executor.close(mode);
  }

  private end(seq: number, outcome: JobOutcome, at: number): void {
    endAttempt(this.books, this.s.repos.jobStates, this.s.counters, seq, outcome, at);
  }

  /** Registers an attempt that is starting or running (after dispatch, or found in flight after a restart). */
  private track(launch: JobLaunch): void {
    const existing = this.books.inFlight.get(launch.seq);
    if (existing) {
      // Dispatched by this scheduler: only the limits were unknown until the launch was built.
      existing.memoryMiB = launch.memoryMiB;
      existing.execTimeoutSeconds = launch.execTimeoutSeconds;
      if (launch.attempt > 1) existing.lastLogAt = undefined;
      return;
    }
    // Found in flight after a restart.
    const place = this.s.repos.jobStates.place(launch.seq)!;
    this.books.inFlight.add(this.books.runOf(place), launch.memoryMiB, launch.execTimeoutSeconds, undefined);
  }

  /** Builds the attempt's launch, then hands it to the executor (after the dispatching transaction committed). */
  private launch(seq: number): void {
    const dispatched = this.books.inFlight.get(seq);
    this.options.buildLaunch(seq).then(
      (launch) => {
        if (this.closed) return;
        if (this.books.inFlight.get(seq) !== dispatched) return this.controls.launchDropped(seq); // discarded meanwhile
        this.track(launch);
        if (this.books.inFlight.get(seq)?.cancelRequested) {
          this.events.finished(seq, { kind: "cancelled", exitCode: null }, this.s.clock.now());
          return;
        }
        this.executor.start(launch);
      },
      (error) => {
        if (this.books.inFlight.get(seq) !== dispatched) return this.controls.launchDropped(seq);
        this.events.finished(
          seq,
          { kind: "start-failed", reason: `Could not prepare the job: ${(error as Error).message}` },
          this.s.clock.now(),
        );
      },
    );
  }
}
