// The JSON the job operations serve: `HTCJob` (FULL and SIMPLE), `RescaleJobStatusEvent`, `HTCLogEvent` and
// `JobStatusSummary`, built from the compact rows the scheduler keeps.
import { createHash } from "node:crypto";
import { isoTime } from "../clock.js";
import type { Sent } from "../contract-types.js";
import { type Region, regionInfo } from "../domain/catalog.js";
import type { AttemptRow, BatchRow, JobRow } from "../db/repositories/jobs.js";
import type { TaskRow } from "../db/repositories/tasks.js";
import { DEFAULT_MEMORY_MIB, DEFAULT_TIMEOUT_SECONDS, DEFAULT_VCPUS, type SubmittedBatch } from "./submit.js";
import { JobStatus, type JobStatusName, statusNames } from "./status.js";

export type JobView = Sent<"HTCJob">;
export type JobEventView = Sent<"RescaleJobStatusEvent">;

export interface BatchInfo {
  row: BatchRow;
  /**
   * The batch as the submit answer echoed it. Batches stored by earlier versions lack the members that were
   * not sent, so every read treats absent like `null`.
   */
  request: SubmittedBatch;
}

/** Parsed batches, kept for a while: a page of jobs usually shares a handful of them. */
export class BatchCache {
  private readonly entries = new Map<number, BatchInfo>();

  constructor(private readonly load: (seq: number) => BatchRow | undefined) {}

  get(seq: number): BatchInfo {
    let info = this.entries.get(seq);
    if (!info) {
      const row = this.load(seq);
      if (!row) throw new Error(`batch ${seq} is missing`);
      info = { row, request: JSON.parse(row.request) as BatchInfo["request"] };
      if (this.entries.size >= 5000) this.entries.clear();
      this.entries.set(seq, info);
    }
    return info;
  }

  /** Forgets every parsed batch (after a reset or an import replaced the rows). */
  clear(): void {
    this.entries.clear();
  }
}

export function jobIdOf(batch: BatchRow, job: Pick<JobRow, "seq">): string {
  return `${batch.parent_job_id}:${job.seq - batch.first_job}`;
}

/** Architectures as the numeric `jobExecutionEnvironment.architecture`: 1 X86, 2 AARCH64, 3 A100. */
const architectureNumber = { X86: 1, AARCH64: 2, A100: 3 } as const;

function architectureOf(batch: BatchInfo, region: string): "X86" | "AARCH64" | "A100" {
  return batch.request.htcJobDefinition.architecture ?? (regionInfo(region)?.supportedArchitectures[0] as "X86") ?? "X86";
}

function instanceType(region: string, architecture: string): string {
  const gcp = region.startsWith("GCP_");
  if (architecture === "AARCH64") return gcp ? "t2a-standard-8" : "c7g.medium";
  return gcp ? "t2d-standard-16" : "c6i.xlarge";
}

function instanceLabels(batch: BatchInfo, job: JobRow) {
  if (job.instance_id === null) return null;
  const architecture = architectureOf(batch, job.region);
  return {
    csp: job.region.split("_")[0]!,
    priority: batch.request.htcJobDefinition.priority ?? "ON_DEMAND_PRIORITY",
    instanceType: instanceType(job.region, architecture),
    instanceArchitecture: architecture,
    accountId: "000000000000",
    region: job.region,
  };
}

function container(exitCode: number | null, reason: string | null): Sent<"ContainerDetails"> {
  return exitCode === null && reason === null ? null : { exitCode: exitCode ?? -1, reason: reason ?? "Container exited" };
}

export function jobView(task: TaskRow, batch: BatchInfo, job: JobRow, view: "FULL" | "SIMPLE"): JobView {
  const definition = batch.request.htcJobDefinition;
  const architecture = architectureOf(batch, job.region);
  const base: JobView = {
    jobUUID: jobIdOf(batch.row, job),
    region: job.region as Region,
    taskId: task.id,
    projectId: task.project_id,
    workspaceId: task.workspace_id,
    createdBy: batch.row.created_by,
    group: batch.request.group ?? null,
    status: statusNames[job.status]!,
    statusReason: job.reason,
    container: container(job.exit_code, job.container_reason),
    createdAt: isoTime(job.submitted_at),
    updatedAt: isoTime(job.updated_at),
    startedAt: job.running_at === null ? null : isoTime(job.running_at),
    completedAt: job.ended_at === null ? null : isoTime(job.ended_at),
    failureCode: job.failure_code as JobView["failureCode"],
    architecture,
    maxVCpus: definition.maxVCpus ?? DEFAULT_VCPUS,
    minVCpus: definition.maxVCpus ?? DEFAULT_VCPUS,
    maxMemory: definition.maxMemory ?? DEFAULT_MEMORY_MIB,
    maxDiskGiB: definition.maxDiskGiB ?? null,
    execTimeoutSeconds: definition.execTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    maxSwap: definition.maxSwap ?? null,
    maxGpus: null,
    imageName: definition.imageName,
    instanceId: job.instance_id,
    providerJobId: job.status >= JobStatus.SUBMITTED_TO_PROVIDER && job.provider_at !== null ? `htcemu-${job.seq}` : null,
    // The members the SIMPLE view sends as null.
    commands: null,
    envs: null,
    tags: null,
    jobExecutionEnvironment: null,
    instanceLabels: null,
  };
  if (view === "SIMPLE") return base;
  return {
    ...base,
    commands: definition.commands ?? [],
    envs: definition.envs ?? [],
    tags: [
      ...(batch.request.tags ?? []).map((tag) => ({ key: tag.key ?? null, value: tag.value ?? null })),
      ...Object.entries(definition.tags ?? {}).map(([key, value]) => ({ key, value })),
    ],
    jobExecutionEnvironment: {
      instanceId: job.instance_id,
      instanceType: instanceType(job.region, architecture),
      architecture: architectureNumber[architecture],
    },
    instanceLabels: instanceLabels(batch, job),
  };
}

/** A stable id for the event of `status` in `attempt` of a job, shaped like a UUID. */
function eventId(jobId: string, attempt: number, status: number): string {
  const h = createHash("sha1").update(`${jobId}|${attempt}|${status}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface AttemptLike {
  attempt: number;
  starting_at: number | null;
  running_at: number | null;
  ended_at: number | null;
  reason: string | null;
  exit_code: number | null;
  container_reason: string | null;
  instance_id: string | null;
  endStatus: number | null;
  cancelled: boolean;
}

/** The status history of a job: submission and admission once, then the run-up and end of every attempt. */
export function jobEvents(batch: BatchInfo, job: JobRow, attempts: AttemptRow[]): JobEventView[] {
  const jobId = jobIdOf(batch.row, job);
  const events: JobEventView[] = [];
  const push = (status: number, at: number | null, attempt: number, extra: Partial<AttemptLike> = {}, final = false) => {
    if (at === null) return;
    events.push({
      eventId: eventId(jobId, attempt, status),
      jobId,
      dateTime: isoTime(at),
      status: statusNames[status]!,
      statusReason: final ? (extra.reason ?? null) : null,
      container: final ? container(extra.exit_code ?? null, extra.container_reason ?? null) : null,
      instanceId: status >= JobStatus.STARTING ? (extra.instance_id ?? null) : null,
      instanceLabels:
        status >= JobStatus.RUNNING && extra.instance_id ? instanceLabels(batch, { ...job, instance_id: extra.instance_id }) : null,
      userCancelledEvent: final && extra.cancelled === true,
    });
  };
  push(JobStatus.SUBMITTED_TO_RESCALE, job.submitted_at, 1);
  push(JobStatus.SUBMITTED_TO_PROVIDER, job.provider_at, 1);
  const runs: AttemptLike[] = [
    ...attempts.map((a) => ({ ...a, endStatus: JobStatus.FAILED, cancelled: false })),
    {
      ...job,
      endStatus: job.status === JobStatus.SUCCEEDED || job.status === JobStatus.FAILED ? job.status : null,
      cancelled: job.cancelled === 1,
    },
  ];
  for (const [i, run] of runs.entries()) {
    // The first attempt became RUNNABLE at admission; a retry becomes RUNNABLE when its predecessor ended.
    const runnableAt = i === 0 ? job.runnable_at : (runs[i - 1]!.ended_at ?? null);
    push(JobStatus.RUNNABLE, runnableAt, run.attempt);
    push(JobStatus.STARTING, run.starting_at, run.attempt, run);
    push(JobStatus.RUNNING, run.running_at, run.attempt, run);
    if (run.endStatus !== null) push(run.endStatus, run.ended_at, run.attempt, run, true);
  }
  return events;
}

export function summaryView(group: string | null, counts: number[]): Sent<"JobStatusSummary"> {
  const jobStatuses = Object.fromEntries(statusNames.map((name, i) => [name, counts[i] ?? 0])) as Record<JobStatusName, number>;
  return { group, jobStatuses };
}
