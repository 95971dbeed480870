// The scheduler: one loop that moves jobs through their lifecycle.
//   SUBMITTED_TO_RESCALE --admission (project and workspace vCPU limits)--> RUNNABLE (via SUBMITTED_TO_PROVIDER)
//   RUNNABLE --dispatch (executor capacity; on-demand before economy; round-robin over tasks)--> STARTING
//   STARTING --executor--> RUNNING --executor--> SUCCEEDED | FAILED (or back to RUNNABLE for a retry)
// Executors report asynchronously into an inbox; each tick applies the inbox, admits and dispatches inside one
// SQLite transaction, then hands the dispatched jobs to the executor. Every state change is committed before
// anything acts on it, so a crash at any point loses no job and runs none twice (see recover()).
import type { Statement } from "better-sqlite3";
import type { Services } from "../services.js";
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
  lastLogAt: number;
}

export interface SchedulerOptions {
  /** How often the loop runs when nothing pokes it. */
  tickMs?: number;
  /** Most jobs admitted per tick (keeps one transaction short when a million jobs wait). */
  admissionPerTick?: number;
  /** Most jobs dispatched per tick. */
  dispatchPerTick?: number;
  /** Builds what the executor needs to run an attempt (environment, tokens, image). */
  buildLaunch: (seq: number) => Promise<JobLaunch>;
  log?: (line: string) => void;
}

export class Scheduler {
  private readonly pending = new TaskQueues();
  private readonly runnable = [new TaskQueues(), new TaskQueues()];
  private readonly projectUsage = new Map<string, number>();
  private readonly workspaceUsage = new Map<string, number>();
  private readonly executing = new Map<number, Executing>();
  private executingVcpus = 0;
  private inbox: InboxEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private paused = false;
  private closed = false;
  private readonly stmts: Record<string, Statement>;
  readonly events: ExecutorEvents;

  private executor!: Executor;

  constructor(
    private readonly s: Services,
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
      job: db.prepare("SELECT * FROM jobs WHERE seq = ?"),
      batch: db.prepare("SELECT * FROM job_batches WHERE seq = ?"),
      taskOf: db.prepare("SELECT id, project_id, workspace_id FROM tasks WHERE seq = ?"),
    };
    this.events = {
      running: (seq, info) => this.enqueue({ kind: "running", seq, instanceId: info.instanceId, at: info.at }),
      log: (seq, lines) => this.enqueue({ kind: "log", seq, lines }),
      finished: (seq, outcome, at) => this.enqueue({ kind: "finished", seq, outcome, at }),
    };
  }

  /** The executor is created after the scheduler, because it reports into `scheduler.events`. */
  attach(executor: Executor): void {
    this.executor = executor;
  }

  get executorName(): string {
    return this.executor.name;
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
    const batches = new Map<number, { vcpus: number; priority: number }>();
    const batchOf = (seq: number) => {
      let b = batches.get(seq);
      if (!b) {
        b = this.stmts.batch!.get(seq) as { vcpus: number; priority: number };
        batches.set(seq, b);
      }
      return b;
    };
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
      await this.executor.recover(launches);
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

  resume(): void {
    this.paused = false;
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
      const batch = this.stmts.batch!.get(batch_seq) as { vcpus: number };
      this.addUsage(task.project_id, task.workspace_id, -batch.vcpus * n);
    }
    const queued = repo
      .prepared(
        `UPDATE jobs SET status = 6, cancelled = 1, reason = ?, ended_at = ?, updated_at = ? WHERE ${clause} AND status IN (0, 1, 2)`,
      )
      .run(CANCELLED_REASON, at, at, ...args).changes;
    const running = repo.prepared(`SELECT seq FROM jobs WHERE ${clause} AND status IN (3, 4)`).all(...args) as { seq: number }[];
    for (const { seq } of running) {
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
        if (this.paused) return;
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
    let budget = this.options.dispatchPerTick ?? 20_000;
    const capacity = this.executor.capacityVcpus;
    for (const queue of this.runnable) {
      while (budget > 0) {
        const run = queue.next();
        if (!run) break;
        const slot = Math.min(run.vcpus, capacity);
        if (this.executingVcpus + slot > capacity) return;
        const seq = run.from;
        queue.consume(run, 1);
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
    const slot = Math.min(launch.vcpus, this.executor.capacityVcpus);
    if (!existing) this.executingVcpus += slot;
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
      cancelRequested: existing?.cancelRequested ?? false,
      lastLogAt: existing?.lastLogAt || this.s.repos.jobs.lastLogAt(launch.seq),
    });
  }

  private launch(seq: number): void {
    this.options.buildLaunch(seq).then(
      (launch) => {
        if (this.closed) return;
        this.track(launch);
        if (this.executing.get(seq)?.cancelRequested) {
          this.events.finished(seq, { kind: "cancelled", exitCode: null }, this.s.clock.now());
          return;
        }
        this.executor.start(launch);
      },
      (error) => {
        this.events.finished(seq, { kind: "start-failed", reason: `Could not prepare the job: ${(error as Error).message}` }, this.s.clock.now());
      },
    );
  }

  private applyInbox(): void {
    if (this.inbox.length === 0) return;
    const entries = this.inbox;
    this.inbox = [];
    const repo = this.s.repos.jobs;
    for (const entry of entries) {
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
    const row = this.stmts.job!.get(seq) as
      | { attempt: number; batch_seq: number; starting_at: number | null; running_at: number | null; instance_id: string | null; status: number }
      | undefined;
    if (!row || (row.status !== JobStatus.STARTING && row.status !== JobStatus.RUNNING)) return;
    const batch = this.stmts.batch!.get(row.batch_seq) as { max_retries: number; vcpus: number; priority: number };
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
