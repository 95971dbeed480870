// The job side of the emulator, assembled: scheduler + executor + image catalogue, and the operations the
// routes call (submit, cancel, queries).
import type { ProjectRow } from "../db/repositories/projects.js";
import type { TaskRow } from "../db/repositories/tasks.js";
import type { Principal } from "../http/auth.js";
import { FaultyExecutor } from "../faults/job-faults.js";
import type { Services } from "../services.js";
import type { Executor } from "./executor.js";
import { buildLaunch, type LaunchContext } from "./launch.js";
import type { Run } from "./queues.js";
import { Scheduler } from "./scheduler.js";
import { checkBatches, type SubmitRequest, storeBatches } from "./submit.js";
import { BatchCache } from "./views.js";
import { JobStatus } from "./status.js";

export interface JobServiceOptions {
  makeExecutor: (events: Scheduler["events"]) => Executor;
  /** The API base URL as a container sees it. */
  apiUrlForJobs: () => string;
  log: (line: string) => void;
}

export class JobService {
  readonly batches: BatchCache;
  readonly scheduler: Scheduler;
  readonly executor: Executor;
  private readonly context: LaunchContext;

  constructor(
    private readonly s: Services,
    options: JobServiceOptions,
  ) {
    this.batches = new BatchCache((seq) => s.repos.jobs.batch(seq));
    const context: LaunchContext = { batches: this.batches, tasks: new Map(), needsEnvironment: true, apiUrlForJobs: options.apiUrlForJobs };
    this.context = context;
    // Fault injection (admin API): the scheduler asks the rules before dispatching, and a decorator around the
    // executor spoils the attempts they hit.
    const faults = s.faults as Services["faults"] | undefined;
    this.scheduler = new Scheduler(s, {
      buildLaunch: (seq) => buildLaunch(s, context, seq),
      log: options.log,
      ...(faults ? { hold: (seq: number) => faults.holdRunnable(seq) } : {}),
    });
    const faulty = faults ? new FaultyExecutor(faults, this.scheduler.events, s.clock, options.makeExecutor) : undefined;
    this.executor = faulty ?? options.makeExecutor(this.scheduler.events);
    context.needsEnvironment = this.executor.name !== "simulated";
    this.scheduler.attach(this.executor);
    faults?.attach(this.scheduler.controls, faulty);
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
  unfinished(taskSeq: number): number {
    const counts = this.s.repos.jobs.countsOfTask(taskSeq);
    return counts.slice(0, JobStatus.SUCCEEDED).reduce((a, b) => a + b, 0);
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
