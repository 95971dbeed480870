// The job side of the emulator, assembled: scheduler + executor (+ the fault decorator), and the operations the
// routes call (submit, cancel, queries). Built from the core; the routes and the admin API reach it through the
// Hono environment, the task lifecycle through TaskJobs.
import type { Core } from "../core.js";
import type { ProjectRow } from "../db/repositories/projects.js";
import type { TaskRow } from "../db/repositories/tasks.js";
import type { Principal } from "../domain/principal.js";
import type { TaskJobs } from "../domain/tasks.js";
import { FaultyExecutor, type JobFaultSource } from "../faults/job-faults.js";
import type { Executor } from "./executor.js";
import { buildLaunch, type LaunchContext } from "./launch.js";
import type { Run } from "./queues.js";
import { Scheduler } from "./scheduler.js";
import { checkBatches, type SubmitRequest, storeBatches } from "./submit.js";
import { BatchCache } from "./views.js";
import { JobStatus } from "./status.js";

/** What the job side asks the fault rules (implemented by FaultInjector). */
export interface JobFaults extends JobFaultSource {
  /** The scheduler's `hold` hook: a tag keeps a RUNNABLE job off the queues (see Scheduler). */
  holdRunnable(seq: number): string | undefined;
}

export interface JobServiceOptions {
  makeExecutor: (events: Scheduler["events"]) => Executor;
  /** The API base URL as a container sees it. */
  apiUrlForJobs: string;
  /** Fault injection (admin API): the scheduler asks the rules before dispatching, and a decorator around the
   * executor spoils the attempts they hit. */
  faults?: JobFaults;
  log: (line: string) => void;
}

export class JobService implements TaskJobs {
  readonly batches: BatchCache;
  readonly scheduler: Scheduler;
  readonly executor: Executor;
  /** The executor decorator of fault injection, when faults are on (it holds attempts for `stuck` rules). */
  readonly faultyExecutor: FaultyExecutor | undefined;
  private readonly context: LaunchContext;

  constructor(
    private readonly s: Core,
    options: JobServiceOptions,
  ) {
    this.batches = new BatchCache((seq) => s.repos.jobs.batch(seq));
    const context: LaunchContext = {
      batches: this.batches,
      tasks: new Map(),
      needsEnvironment: true,
      apiUrlForJobs: options.apiUrlForJobs,
    };
    this.context = context;
    const { faults } = options;
    let faulty: FaultyExecutor | undefined;
    // The executor reports into the scheduler's inbox and the scheduler drives the executor: the scheduler makes
    // its executor with the factory, handing it its event sink.
    this.scheduler = new Scheduler(s, {
      buildLaunch: (seq) => buildLaunch(s, context, seq),
      makeExecutor: (events) => {
        faulty = faults ? new FaultyExecutor(faults, events, s.clock, options.makeExecutor) : undefined;
        return faulty ?? options.makeExecutor(events);
      },
      log: options.log,
      ...(faults ? { hold: (seq: number) => faults.holdRunnable(seq) } : {}),
    });
    this.faultyExecutor = faulty;
    this.executor = this.scheduler.executor;
    context.needsEnvironment = this.executor.name !== "simulated";
  }

  /** Forgets cached batches and tasks (after a reset or an import replaced the rows). */
  clearCaches(): void {
    this.batches.clear();
    this.context.tasks.clear();
  }

  async start(): Promise<void> {
    await this.scheduler.recover();
    this.scheduler.start();
  }

  async submit(principal: Principal, project: ProjectRow, task: TaskRow, group: string, requests: SubmitRequest[]) {
    const checked = await checkBatches(this.s, project, task, requests);
    const { accepted, echo } = storeBatches(this.s, principal, project, task, group, checked);
    const runs: Run[] = accepted.map((b, i) => ({
      taskSeq: task.seq,
      batchSeq: b.batchSeq,
      from: b.firstJob,
      to: b.firstJob + b.size,
      vcpus: requests[i]!.htcJobDefinition.maxVCpus ?? 1,
      priority: requests[i]!.htcJobDefinition.priority === "ON_DEMAND_ECONOMY" ? 1 : 0,
      projectId: project.id,
      workspaceId: project.workspace_id,
    }));
    this.scheduler.enqueueSubmitted(runs);
    const jobs = accepted.reduce((n, b) => n + b.size, 0);
    this.s.counters.inc(project.workspace_id, "htc_jobs_submitted_total", {}, jobs);
    return echo;
  }

  cancel(task: TaskRow, filter: { groupId?: number; seqs?: number[] }): void {
    const now = this.s.clock.now();
    this.s.db.transaction(() => {
      this.scheduler.cancel({ taskSeq: task.seq, ...filter }, now);
      this.s.repos.tasks.touch(task.id, now);
    })();
  }

  /** Jobs of the task that have not reached SUCCEEDED or FAILED. */
  unfinished(task: Pick<TaskRow, "seq">): number {
    const counts = this.s.repos.jobs.countsOfTask(task.seq);
    return counts.slice(0, JobStatus.SUCCEEDED).reduce((a, b) => a + b, 0);
  }

  /** Cancels every unfinished job of the task (inside the caller's transaction): the task is being deleted. */
  cancelAll(task: Pick<TaskRow, "seq">): void {
    this.scheduler.cancel({ taskSeq: task.seq }, this.s.clock.now());
  }

  /** The job's seq for a public id `<parentJobId>:<index>` within a task, if it exists. */
  seqOf(taskSeq: number, jobId: string): number | undefined {
    const colon = jobId.lastIndexOf(":");
    if (colon <= 0) return undefined;
    const index = Number(jobId.slice(colon + 1));
    if (!/^\d+$/.test(jobId.slice(colon + 1)) || !Number.isSafeInteger(index)) return undefined;
    const batch = this.s.repos.jobs.batchByParent(jobId.slice(0, colon));
    if (!batch || batch.task_seq !== taskSeq || index >= batch.batch_size) return undefined;
    return batch.first_job + index;
  }

  async close(mode: "detach" | "stop"): Promise<void> {
    await this.scheduler.close(mode);
  }
}
