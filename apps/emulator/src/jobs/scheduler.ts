// The scheduler: one loop that moves jobs through their lifecycle.
//   SUBMITTED_TO_RESCALE --admission (project and workspace vCPU limits)--> RUNNABLE (via SUBMITTED_TO_PROVIDER)
//   RUNNABLE --dispatch (executor capacity; on-demand before economy; round-robin over tasks)--> STARTING
//   STARTING --executor--> RUNNING --executor--> SUCCEEDED | FAILED (or back to RUNNABLE for a retry)
// Executors report asynchronously into an inbox; each tick applies the inbox, admits and dispatches inside one
// SQLite transaction, then hands the dispatched jobs to the executor. Every state change is committed before
// anything acts on it, so a crash at any point loses no job and runs none twice (see recover()).
import type { Statement } from "better-sqlite3";
import type { Core } from "../core.js";
import type { Executor, ExecutorEvents, JobLaunch, JobOutcome, LogLine } from "./executor.js";
import { CANCELLED_REASON, endingOf } from "./outcomes.js";
import { type Run, TaskQueues } from "./queues.js";
import { JobStatus, Priority } from "./status.js";

type InboxEntry =
  | { kind: "running"; seq: number; instanceId: string; at: number }
  | { kind: "log"; seq: number; lines: LogLine[] }
  | { kind: "finished"; seq: number; outcome: JobOutcome; at: number };

interface Executing {
  vcpus: number;
  /** vCPUs counted against the executor's capacity (a job never needs more than the whole executor). */
  slotVcpus: number;
  projectId: string;
  workspaceId: string;
  taskSeq: number;
  batchSeq: number;
  memoryMiB: number;
  execTimeoutSeconds: number;
  cancelRequested: boolean;
  /** Time of the job's last stored output line; undefined until known (read lazily for retries and recoveries). */
  lastLogAt: number | undefined;
}

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
   * RUNNABLE, off the queues, until release() selects it.
   */
  hold?: (seq: number) => string | undefined;
}

export class Scheduler {
  private readonly pending = new TaskQueues();
  private readonly runnable = [new TaskQueues(), new TaskQueues()];
  private readonly projectUsage = new Map<string, number>();
  private readonly workspaceUsage = new Map<string, number>();
  private readonly executing = new Map<number, Executing>();
  private executingVcpus = 0;
  private inbox: InboxEntry[] = [];
  /** vCPUs, priority and retries of batches (immutable), so finishing a job costs no batch read. */
  private readonly batchFacts = new Map<number, { vcpus: number; priority: number; max_retries: number }>();
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private paused = false;
  // --- test controls (admin API): see hold, step(), discard() ---
  /** Jobs kept RUNNABLE by `options.hold`, with its tag and the run to queue again on release. */
  private readonly held = new Map<number, { tag: string; run: Run }>();
  /** Jobs stepped by hand into SUBMITTED_TO_PROVIDER, STARTING or RUNNING: no executor runs them until resume(). */
  private readonly stepped = new Map<number, Run>();
  /** Attempts of discarded jobs whose end the executor has yet to report, and what to call when it does. */
  private readonly discarded = new Map<number, () => void>();
  /** While above 0, nothing is admitted or dispatched (see suspend()). */
  private suspended = 0;
  private closed = false;
  private readonly stmts: Record<string, Statement>;
  readonly events: ExecutorEvents;
  readonly executor: Executor;

  constructor(
    private readonly s: Core,
    private readonly options: SchedulerOptions,
  ) {
    const db = s.db;
    this.stmts = {
      admit: db.prepare(
        "UPDATE jobs SET status = 2, provider_at = @now, runnable_at = @now, updated_at = @now WHERE seq >= @from AND seq < @to AND status = 0",
      ),
      start: db.prepare("UPDATE jobs SET status = 3, starting_at = @now, updated_at = @now WHERE seq = @seq AND status = 2"),
      running: db.prepare(
        "UPDATE jobs SET status = 4, running_at = @now, instance_id = @instanceId, updated_at = @now WHERE seq = @seq AND status = 3",
      ),
      end: db.prepare(
        `UPDATE jobs SET status = @status, ended_at = @at, updated_at = @at, reason = @reason, failure_code = @failureCode,
           exit_code = @exitCode, container_reason = @containerReason, cancelled = @cancelled,
           starting_at = COALESCE(starting_at, @at)
         WHERE seq = @seq AND status IN (3, 4)`,
      ),
      retry: db.prepare(
        `UPDATE jobs SET status = 2, attempt = attempt + 1, starting_at = NULL, running_at = NULL, ended_at = NULL,
           reason = NULL, failure_code = NULL, exit_code = NULL, container_reason = NULL, instance_id = NULL, updated_at = @now
         WHERE seq = @seq`,
      ),
      job: db.prepare("SELECT task_seq, batch_seq FROM jobs WHERE seq = ?"),
      ending: db.prepare("SELECT attempt, batch_seq, starting_at, running_at, instance_id, status FROM jobs WHERE seq = ?"),
      batch: db.prepare("SELECT vcpus, priority, max_retries FROM job_batches WHERE seq = ?"),
      taskOf: db.prepare("SELECT id, project_id, workspace_id FROM tasks WHERE seq = ?"),
      stepRow: db.prepare("SELECT status, task_seq, batch_seq FROM jobs WHERE seq = ?"),
      stepProvider: db.prepare("UPDATE jobs SET status = 1, provider_at = @now, updated_at = @now WHERE seq = @seq AND status = 0"),
      stepRunnable: db.prepare("UPDATE jobs SET status = 2, runnable_at = @now, updated_at = @now WHERE seq = @seq AND status = 1"),
      stepStart: db.prepare("UPDATE jobs SET status = 3, starting_at = @now, reason = NULL, updated_at = @now WHERE seq = @seq AND status = 2"),
      stepRunning: db.prepare(
        "UPDATE jobs SET status = 4, running_at = @now, instance_id = @instanceId, reason = NULL, updated_at = @now WHERE seq = @seq AND status = 3",
      ),
    };
    this.events = {
      running: (seq, info) => this.enqueue({ kind: "running", seq, instanceId: info.instanceId, at: info.at }),
      log: (seq, lines) => this.enqueue({ kind: "log", seq, lines }),
      finished: (seq, outcome, at) => this.enqueue({ kind: "finished", seq, outcome, at }),
    };
    this.executor = options.makeExecutor(this.events);
  }

  /** Rebuilds the queues and usage from the database and re-attaches to attempts in flight. */
  async recover(): Promise<void> {
    const db = this.s.db;
    const taskInfo = new Map<number, { project_id: string; workspace_id: string }>();
    const taskOf = (seq: number) => {
      let info = taskInfo.get(seq);
      if (!info) {
        info = this.stmts.taskOf!.get(seq) as { project_id: string; workspace_id: string };
        taskInfo.set(seq, info);
      }
      return info;
    };
    const batchOf = (seq: number) => this.batchOf(seq);
    // Only step() leaves jobs in SUBMITTED_TO_PROVIDER; dispatch expects RUNNABLE.
    db.prepare("UPDATE jobs SET status = 2, runnable_at = ?, updated_at = ? WHERE status = 1").run(this.s.clock.now(), this.s.clock.now());
    const rows = db
      .prepare("SELECT seq, batch_seq, task_seq, status, attempt FROM jobs WHERE status < 5 ORDER BY seq")
      .iterate() as IterableIterator<{ seq: number; batch_seq: number; task_seq: number; status: number; attempt: number }>;
    const inFlight: number[] = [];
    for (const row of rows) {
      const task = taskOf(row.task_seq);
      const batch = batchOf(row.batch_seq);
      const run: Run = {
        taskSeq: row.task_seq,
        batchSeq: row.batch_seq,
        from: row.seq,
        to: row.seq + 1,
        vcpus: batch.vcpus,
        priority: batch.priority,
        projectId: task.project_id,
        workspaceId: task.workspace_id,
      };
      if (row.status === JobStatus.SUBMITTED_TO_RESCALE) {
        this.pending.push(run);
        continue;
      }
      this.addUsage(run.projectId, run.workspaceId, batch.vcpus);
      if (row.status <= JobStatus.RUNNABLE) this.runnable[batch.priority === Priority.ON_DEMAND_ECONOMY ? 1 : 0]!.push(run);
      else inFlight.push(row.seq);
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
    if (this.stepped.size) {
      const now = this.s.clock.now();
      const launches: number[] = [];
      this.s.db.transaction(() => {
        for (const [seq, run] of this.stepped) {
          const row = this.stmts.stepRow!.get(seq) as { status: number } | undefined;
          if (row?.status === JobStatus.SUBMITTED_TO_PROVIDER) {
            this.stmts.stepRunnable!.run({ now, seq });
            this.runnable[run.priority === Priority.ON_DEMAND_ECONOMY ? 1 : 0]!.push(run);
          } else if ((row?.status === JobStatus.STARTING || row?.status === JobStatus.RUNNING) && this.executing.has(seq)) {
            launches.push(seq);
          }
        }
      })();
      this.stepped.clear();
      for (const seq of launches) this.launch(seq);
    }
    this.poke();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** New batches were stored: queue them for admission. */
  enqueueSubmitted(runs: Run[]): void {
    for (const run of runs) this.pending.push(run);
    this.poke();
  }

  /**
   * Cancels the unfinished jobs of a task (optionally of one group or of some jobs), inside the caller's
   * transaction: queued jobs fail at once; starting and running attempts are stopped by the executor, and
   * fail when it reports back.
   */
  cancel(filter: { taskSeq: number; groupId?: number; seqs?: number[] }, at: number): { queued: number; running: number } {
    const where = ["task_seq = ?"];
    const args: (number | string)[] = [filter.taskSeq];
    if (filter.groupId !== undefined) {
      where.push("group_id = ?");
      args.push(filter.groupId);
    }
    if (filter.seqs) {
      if (filter.seqs.length === 0) return { queued: 0, running: 0 };
      where.push(`seq IN (${filter.seqs.map(() => "?").join(",")})`);
      args.push(...filter.seqs);
    }
    const repo = this.s.repos.jobs;
    const clause = where.join(" AND ");
    // Admitted jobs hold vCPUs of their project and workspace: give them back.
    const admitted = repo
      .prepared(`SELECT batch_seq, COUNT(*) AS n FROM jobs WHERE ${clause} AND status IN (1, 2) GROUP BY batch_seq`)
      .all(...args) as { batch_seq: number; n: number }[];
    const task = this.stmts.taskOf!.get(filter.taskSeq) as { project_id: string; workspace_id: string };
    for (const { batch_seq, n } of admitted) {
      const batch = this.batchOf(batch_seq);
      this.addUsage(task.project_id, task.workspace_id, -batch.vcpus * n);
    }
    const queued = repo
      .prepared(
        `UPDATE jobs SET status = 6, cancelled = 1, reason = ?, ended_at = ?, updated_at = ? WHERE ${clause} AND status IN (0, 1, 2)`,
      )
      .run(CANCELLED_REASON, at, at, ...args).changes;
    // Queued jobs end here, not through the executor's report: count them as finished (FAILED) now.
    if (queued > 0) this.s.counters.inc(task.workspace_id, "htc_jobs_finished_total", { status: "FAILED" }, queued);
    const running = repo.prepared(`SELECT seq FROM jobs WHERE ${clause} AND status IN (3, 4)`).all(...args) as { seq: number }[];
    for (const { seq } of running) {
      if (this.stepped.delete(seq)) {
        // Stepped by hand: no executor runs it, so its end is known now.
        this.events.finished(seq, { kind: "cancelled", exitCode: null }, at);
        continue;
      }
      const job = this.executing.get(seq);
      if (job && !job.cancelRequested) {
        job.cancelRequested = true;
        this.executor.cancel(seq);
      }
    }
    if (filter.groupId === undefined && !filter.seqs) {
      this.pending.dropTask(filter.taskSeq);
      for (const queue of this.runnable) queue.dropTask(filter.taskSeq);
    }
    this.poke();
    return { queued, running: running.length };
  }

  /** Applies executor news, admits and dispatches. Synchronous: one transaction per tick. */
  tick(): void {
    if (this.closed) return;
    const launches: number[] = [];
    try {
      this.s.db.transaction(() => {
        this.applyInbox();
        if (this.paused || this.suspended > 0) return;
        const now = this.s.clock.now();
        this.admit(now);
        this.dispatch(now, launches);
      })();
    } catch (error) {
      this.options.log?.(`scheduler tick failed: ${(error as Error).stack ?? error}`);
      return;
    }
    for (const seq of launches) this.launch(seq);
  }

  async close(mode: "detach" | "stop"): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.executor.close(mode);
  }

  /** vCPUs in use (admitted, not finished) per project and workspace, for limits and metrics. */
  usageOf(projectId: string): number {
    return this.projectUsage.get(projectId) ?? 0;
  }

  get runningCount(): number {
    return this.executing.size;
  }

  private enqueue(entry: InboxEntry): void {
    if (this.closed) return;
    this.inbox.push(entry);
    this.poke();
  }

  private addUsage(projectId: string, workspaceId: string, vcpus: number): void {
    this.projectUsage.set(projectId, (this.projectUsage.get(projectId) ?? 0) + vcpus);
    this.workspaceUsage.set(workspaceId, (this.workspaceUsage.get(workspaceId) ?? 0) + vcpus);
  }

  private admit(now: number): void {
    let budget = this.options.admissionPerTick ?? 50_000;
    const caps = new Map<string, { project: number | null; workspace: number | null }>();
    const capOf = (run: Run) => {
      let cap = caps.get(run.projectId);
      if (!cap) {
        const limits = this.s.repos.projects.limits(run.projectId).map((l) => l.vcpus);
        const workspace = this.s.repos.identity.workspace(run.workspaceId);
        cap = { project: limits.length ? Math.min(...limits) : null, workspace: workspace?.vcpu_limit ?? null };
        caps.set(run.projectId, cap);
      }
      return cap;
    };
    let blockedInARow = 0;
    while (budget > 0 && !this.pending.isEmpty && blockedInARow <= this.pending.taskCount) {
      const run = this.pending.next();
      if (!run) break;
      const cap = capOf(run);
      let allowed = run.to - run.from;
      if (cap.project !== null) allowed = Math.min(allowed, Math.floor((cap.project - this.usageOf(run.projectId)) / run.vcpus));
      if (cap.workspace !== null) {
        allowed = Math.min(allowed, Math.floor((cap.workspace - (this.workspaceUsage.get(run.workspaceId) ?? 0)) / run.vcpus));
      }
      allowed = Math.min(allowed, budget);
      if (allowed <= 0) {
        blockedInARow++;
        continue;
      }
      blockedInARow = 0;
      const from = run.from;
      const admitted = this.stmts.admit!.run({ now, from, to: from + allowed }).changes;
      this.addUsage(run.projectId, run.workspaceId, admitted * run.vcpus);
      this.runnable[run.priority === Priority.ON_DEMAND_ECONOMY ? 1 : 0]!.push({ ...run, from, to: from + allowed });
      this.pending.consume(run, allowed);
      budget -= allowed;
    }
  }

  private dispatch(now: number, launches: number[]): void {
    let budget = this.options.dispatchPerTick ?? 5_000;
    const capacity = this.executor.capacityVcpus;
    for (const queue of this.runnable) {
      while (budget > 0) {
        const run = queue.next();
        if (!run) break;
        const slot = Math.min(run.vcpus, capacity);
        if (this.executingVcpus + slot > capacity) return;
        const seq = run.from;
        queue.consume(run, 1);
        const tag = this.options.hold?.(seq);
        if (tag !== undefined) {
          this.held.set(seq, { tag, run: { ...run, from: seq, to: seq + 1 } });
          continue;
        }
        if (this.stmts.start!.run({ now, seq }).changes === 0) continue; // cancelled while queued
        this.executingVcpus += slot;
        this.executing.set(seq, {
          vcpus: run.vcpus,
          slotVcpus: slot,
          projectId: run.projectId,
          workspaceId: run.workspaceId,
          taskSeq: run.taskSeq,
          batchSeq: run.batchSeq,
          memoryMiB: 0,
          execTimeoutSeconds: 0,
          cancelRequested: false,
          lastLogAt: 0,
        });
        launches.push(seq);
        budget--;
      }
    }
  }

  /** Registers an attempt that is starting or running (after dispatch, or found in flight after a restart). */
  private track(launch: JobLaunch): void {
    const existing = this.executing.get(launch.seq);
    if (existing) {
      // Dispatched by this scheduler: only the limits were unknown until the launch was built.
      existing.memoryMiB = launch.memoryMiB;
      existing.execTimeoutSeconds = launch.execTimeoutSeconds;
      if (launch.attempt > 1) existing.lastLogAt = undefined;
      return;
    }
    // Found in flight after a restart.
    const slot = Math.min(launch.vcpus, this.executor.capacityVcpus);
    this.executingVcpus += slot;
    const row = this.stmts.job!.get(launch.seq) as { task_seq: number; batch_seq: number };
    this.executing.set(launch.seq, {
      vcpus: launch.vcpus,
      slotVcpus: slot,
      projectId: launch.projectId,
      workspaceId: launch.workspaceId,
      taskSeq: row.task_seq,
      batchSeq: row.batch_seq,
      memoryMiB: launch.memoryMiB,
      execTimeoutSeconds: launch.execTimeoutSeconds,
      cancelRequested: false,
      lastLogAt: undefined,
    });
  }

  // --- test controls (admin API) ------------------------------------------------------------------------------

  /** What the scheduler handles right now. */
  get state(): { paused: boolean; executing: number; held: number; stepped: number } {
    return { paused: this.paused, executing: this.executing.size, held: this.held.size, stepped: this.stepped.size };
  }

  /** The tag `options.hold` gave a job it holds, if it still holds it. */
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
      this.runnable[run.priority === Priority.ON_DEMAND_ECONOMY ? 1 : 0]!.pushFront(run);
    }
    if (released.length) this.poke();
    return released;
  }

  /** Stops admission and dispatch until the returned function is called (nestable). */
  suspend(): () => void {
    this.suspended++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.suspended--;
      this.poke();
    };
  }

  /**
   * Moves one job a status along SUBMITTED_TO_RESCALE → SUBMITTED_TO_PROVIDER → RUNNABLE → STARTING → RUNNING →
   * its end, by hand and stamped with the clock, ignoring limits and capacity. A job stepped into STARTING is
   * not handed to the executor (resume() does that); RUNNING → end records `end` (a retryable failure puts the
   * job back to RUNNABLE, as any end does). `limits` are the job's, for the end's reason. Returns the status
   * after the move, or why the job cannot move.
   */
  step(seq: number, end: JobOutcome, limits: { memoryMiB: number; execTimeoutSeconds: number }): { status: number } | { refused: string } {
    const row = this.stmts.stepRow!.get(seq) as { status: number; task_seq: number; batch_seq: number } | undefined;
    if (!row) return { refused: "the job does not exist" };
    const runOf = (): Run => {
      const task = this.stmts.taskOf!.get(row.task_seq) as { project_id: string; workspace_id: string };
      const batch = this.batchOf(row.batch_seq);
      return {
        taskSeq: row.task_seq,
        batchSeq: row.batch_seq,
        from: seq,
        to: seq + 1,
        vcpus: batch.vcpus,
        priority: batch.priority,
        projectId: task.project_id,
        workspaceId: task.workspace_id,
      };
    };
    const now = this.s.clock.now();
    return this.s.db.transaction((): { status: number } | { refused: string } => {
      switch (row.status) {
        case JobStatus.SUBMITTED_TO_RESCALE: {
          // Admitted by hand: the job's vCPUs count against its project and workspace from now on.
          const run = runOf();
          this.stmts.stepProvider!.run({ now, seq });
          this.addUsage(run.projectId, run.workspaceId, run.vcpus);
          this.stepped.set(seq, run);
          return { status: JobStatus.SUBMITTED_TO_PROVIDER };
        }
        case JobStatus.SUBMITTED_TO_PROVIDER: {
          const run = this.stepped.get(seq) ?? runOf();
          this.stmts.stepRunnable!.run({ now, seq });
          this.stepped.delete(seq);
          // Queued, so that the scheduler dispatches it once resumed (an older queue entry is skipped then).
          this.runnable[run.priority === Priority.ON_DEMAND_ECONOMY ? 1 : 0]!.push(run);
          return { status: JobStatus.RUNNABLE };
        }
        case JobStatus.RUNNABLE: {
          const run = runOf();
          this.held.delete(seq);
          this.stmts.stepStart!.run({ now, seq });
          const slot = Math.min(run.vcpus, this.executor.capacityVcpus);
          this.executingVcpus += slot;
          this.executing.set(seq, {
            vcpus: run.vcpus,
            slotVcpus: slot,
            projectId: run.projectId,
            workspaceId: run.workspaceId,
            taskSeq: run.taskSeq,
            batchSeq: run.batchSeq,
            memoryMiB: limits.memoryMiB,
            execTimeoutSeconds: limits.execTimeoutSeconds,
            cancelRequested: false,
            lastLogAt: undefined,
          });
          this.stepped.set(seq, run);
          return { status: JobStatus.STARTING };
        }
        case JobStatus.STARTING:
          if (!this.stepped.has(seq)) return { refused: "the executor is starting it (it was dispatched before the pause)" };
          this.stmts.stepRunning!.run({ now, seq, instanceId: `step-${seq.toString(16)}` });
          return { status: JobStatus.RUNNING };
        case JobStatus.RUNNING: {
          if (!this.stepped.has(seq)) return { refused: "the executor is running it (it was dispatched before the pause)" };
          this.stepped.delete(seq);
          this.finish(seq, end, now, this.executing.get(seq));
          return { status: (this.stmts.stepRow!.get(seq) as { status: number }).status };
        }
        default:
          return { refused: "the job has finished" };
      }
    })();
  }

  /**
   * Forgets the jobs of one workspace, or of all, whose rows the caller is about to delete or replace: their
   * queue entries, held and stepped state, vCPU usage and cached batch facts; their attempts in flight are
   * stopped in the executor. Synchronous up to the returned promise, so the caller changes the rows right
   * after the call; the promise resolves once the executor reported the end of every stopped attempt (or after
   * `timeoutMs`). Until then nothing is admitted or dispatched, so a new job reusing a seq never meets an old
   * attempt, and reports of the stopped attempts are dropped.
   */
  discard(workspaceId?: string, timeoutMs = 30_000): Promise<void> {
    const all = workspaceId === undefined;
    const mine = (run: { workspaceId: string }) => all || run.workspaceId === workspaceId;
    if (all) {
      this.pending.clear();
      for (const queue of this.runnable) queue.clear();
    } else {
      const tasks = this.s.db.prepare("SELECT seq FROM tasks WHERE workspace_id = ?").all(workspaceId) as { seq: number }[];
      for (const { seq } of tasks) {
        this.pending.dropTask(seq);
        for (const queue of this.runnable) queue.dropTask(seq);
      }
    }
    for (const [seq, held] of this.held) if (mine(held.run)) this.held.delete(seq);
    const waits: Promise<void>[] = [];
    for (const [seq, job] of this.executing) {
      if (!mine(job)) continue;
      this.executing.delete(seq);
      this.executingVcpus -= job.slotVcpus;
      if (this.stepped.has(seq)) continue; // no executor knows it
      waits.push(new Promise<void>((resolve) => this.discarded.set(seq, resolve)));
      this.executor.cancel(seq);
    }
    for (const [seq, run] of this.stepped) if (mine(run)) this.stepped.delete(seq);
    if (all) {
      this.projectUsage.clear();
      this.workspaceUsage.clear();
    } else {
      this.workspaceUsage.delete(workspaceId);
      const projects = this.s.db.prepare("SELECT id FROM projects WHERE workspace_id = ?").all(workspaceId) as { id: string }[];
      for (const { id } of projects) this.projectUsage.delete(id);
    }
    this.batchFacts.clear();
    if (waits.length === 0) return Promise.resolve();
    const resume = this.suspend();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.options.log?.(`${this.discarded.size} discarded attempt(s) did not report their end within ${timeoutMs} ms`);
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

  private settleDiscarded(seq: number): void {
    const settle = this.discarded.get(seq);
    if (!settle) return;
    this.discarded.delete(seq);
    settle();
  }

  private batchOf(batchSeq: number): { vcpus: number; priority: number; max_retries: number } {
    let facts = this.batchFacts.get(batchSeq);
    if (!facts) {
      facts = this.stmts.batch!.get(batchSeq) as { vcpus: number; priority: number; max_retries: number };
      if (this.batchFacts.size >= 50_000) this.batchFacts.clear();
      this.batchFacts.set(batchSeq, facts);
    }
    return facts;
  }

  private launch(seq: number): void {
    const dispatched = this.executing.get(seq);
    this.options.buildLaunch(seq).then(
      (launch) => {
        if (this.closed) return;
        if (this.executing.get(seq) !== dispatched) return this.settleDiscarded(seq); // discarded meanwhile
        this.track(launch);
        if (this.executing.get(seq)?.cancelRequested) {
          this.events.finished(seq, { kind: "cancelled", exitCode: null }, this.s.clock.now());
          return;
        }
        this.executor.start(launch);
      },
      (error) => {
        if (this.executing.get(seq) !== dispatched) return this.settleDiscarded(seq);
        this.events.finished(seq, { kind: "start-failed", reason: `Could not prepare the job: ${(error as Error).message}` }, this.s.clock.now());
      },
    );
  }

  private applyInbox(): void {
    if (this.inbox.length === 0) return;
    // A bounded share per tick: one transaction must not hold the event loop (and the API) for long.
    const limit = this.options.inboxPerTick ?? 15_000;
    const entries = this.inbox.length <= limit ? this.inbox : this.inbox.slice(0, limit);
    this.inbox = this.inbox.length <= limit ? [] : this.inbox.slice(limit);
    if (this.inbox.length) this.poke();
    const repo = this.s.repos.jobs;
    for (const entry of entries) {
      if (this.discarded.has(entry.seq)) {
        // An attempt of a job that was discarded (reset, import): its rows are gone or replaced.
        if (entry.kind === "finished") this.settleDiscarded(entry.seq);
        continue;
      }
      const job = this.executing.get(entry.seq);
      if (entry.kind === "running") {
        this.stmts.running!.run({ now: entry.at, instanceId: entry.instanceId, seq: entry.seq });
      } else if (entry.kind === "log") {
        // Timestamps must be strictly increasing per job: followers print only lines newer than the last.
        let last = job?.lastLogAt ?? repo.lastLogAt(entry.seq);
        for (const line of entry.lines) {
          const at = Math.max(line.at, last + 1);
          repo.insertLog(entry.seq, at, line.stream === "stderr" ? 2 : 1, line.message);
          last = at;
        }
        if (job) job.lastLogAt = last;
      } else {
        this.finish(entry.seq, entry.outcome, entry.at, job);
      }
    }
  }

  private finish(seq: number, outcome: JobOutcome, at: number, job: Executing | undefined): void {
    const row = this.stmts.ending!.get(seq) as
      | { attempt: number; batch_seq: number; starting_at: number | null; running_at: number | null; instance_id: string | null; status: number }
      | undefined;
    if (!row || (row.status !== JobStatus.STARTING && row.status !== JobStatus.RUNNING)) return;
    const batch = this.batchOf(row.batch_seq);
    const effective: JobOutcome = job?.cancelRequested && outcome.kind !== "cancelled" ? { kind: "cancelled", exitCode: "exitCode" in outcome ? outcome.exitCode : null } : outcome;
    const ending = endingOf(effective, { memoryMiB: job?.memoryMiB ?? 0, execTimeoutSeconds: job?.execTimeoutSeconds ?? 0 });
    if (job) {
      this.executing.delete(seq);
      this.executingVcpus -= job.slotVcpus;
    }
    const retry = ending.status === JobStatus.FAILED && ending.retryable && row.attempt <= batch.max_retries;
    if (retry) {
      this.s.repos.jobs.insertAttempt({
        job_seq: seq,
        attempt: row.attempt,
        starting_at: row.starting_at,
        running_at: row.running_at,
        ended_at: at,
        reason: ending.reason,
        failure_code: ending.failureCode,
        exit_code: ending.exitCode,
        container_reason: ending.containerReason,
        instance_id: row.instance_id,
      });
      this.stmts.retry!.run({ now: at, seq });
      if (job) {
        const queue = this.runnable[batch.priority === Priority.ON_DEMAND_ECONOMY ? 1 : 0]!;
        queue.pushFront({
          taskSeq: job.taskSeq,
          batchSeq: job.batchSeq,
          from: seq,
          to: seq + 1,
          vcpus: job.vcpus,
          priority: batch.priority,
          projectId: job.projectId,
          workspaceId: job.workspaceId,
        });
      }
      return;
    }
    this.stmts.end!.run({
      seq,
      at,
      status: ending.status,
      reason: ending.reason,
      failureCode: ending.failureCode,
      exitCode: ending.exitCode,
      containerReason: ending.containerReason,
      cancelled: ending.cancelled ? 1 : 0,
    });
    if (job) this.addUsage(job.projectId, job.workspaceId, -job.vcpus);
    this.s.counters.inc(job?.workspaceId ?? "", "htc_jobs_finished_total", { status: ending.status === JobStatus.SUCCEEDED ? "SUCCEEDED" : "FAILED" });
  }
}
