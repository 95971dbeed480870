// What a job's container gets: its command and limits from the batch definition, and the environment the HTC
// runtime injects (array index, ids, region, a job bearer token with the definition's claims, the API URL).
import { jobStorageEnvironment } from "../domain/storage.js";
import { issueJobTokens } from "../domain/tokens.js";
import type { Core } from "../core.js";
import type { JobLaunch } from "./executor.js";
import { DEFAULT_MEMORY_MIB, DEFAULT_TIMEOUT_SECONDS, DEFAULT_VCPUS, withDefaultTag } from "./submit.js";
import type { BatchCache } from "./views.js";

export interface LaunchContext {
  batches: BatchCache;
  /** Task ids by task seq (immutable), so a launch costs no task read. */
  tasks: Map<number, { id: string; project_id: string; workspace_id: string }>;
  /** False for the simulation: it needs no environment, image or tokens (and must stay cheap at scale). */
  needsEnvironment: boolean;
  /** The API base URL as a container sees it (the host's loopback, or host.docker.internal on Docker Desktop). */
  apiUrlForJobs: string;
}

export async function buildLaunch(s: Core, ctx: LaunchContext, seq: number): Promise<JobLaunch> {
  const job = s.repos.jobs.launchFacts(seq);
  if (!job) throw new Error(`job ${seq} does not exist`);
  const batch = ctx.batches.get(job.batch_seq);
  let task = ctx.tasks.get(job.task_seq);
  if (!task) {
    task = s.repos.tasks.bySeq(job.task_seq)!;
    if (ctx.tasks.size >= 10_000) ctx.tasks.clear();
    ctx.tasks.set(job.task_seq, task);
  }
  const definition = batch.request.htcJobDefinition;
  const index = seq - batch.row.first_job;
  const jobId = `${batch.row.parent_job_id}:${index}`;
  const launch: JobLaunch = {
    seq,
    jobId,
    parentJobId: batch.row.parent_job_id,
    index,
    attempt: job.attempt,
    projectId: task.project_id,
    taskId: task.id,
    workspaceId: task.workspace_id,
    imageName: definition.imageName,
    image: withDefaultTag(definition.imageName),
    commands: definition.commands ?? [],
    env: {},
    workingDir: definition.workingDir ?? null,
    vcpus: definition.maxVCpus ?? DEFAULT_VCPUS,
    memoryMiB: definition.maxMemory ?? DEFAULT_MEMORY_MIB,
    execTimeoutSeconds: definition.execTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    region: job.region,
  };
  if (!ctx.needsEnvironment) return launch;

  const project = s.repos.projects.get(task.project_id, task.workspace_id)!;
  const resolved = await s.images.resolve(project, launch.image);
  launch.image = resolved.image;
  if (resolved.auth) launch.imageAuth = resolved.auth;
  const user = s.repos.identity.user(batch.row.created_by);
  if (!user) throw new Error(`the job's owner ${batch.row.created_by} no longer exists`);
  const claims = Object.fromEntries((definition.claims ?? []).map((c) => [c.name, c.value]));
  const tokens = await issueJobTokens(s, user, { projectId: task.project_id, taskId: task.id, jobId }, claims);
  const apiUrl = ctx.apiUrlForJobs;
  const env: Record<string, string> = {};
  for (const { name, value } of definition.envs ?? []) env[name] = value;
  // Injected last: where a user variable has the same name, the runtime's value wins.
  Object.assign(env, {
    AWS_BATCH_JOB_ARRAY_INDEX: String(index),
    AWS_BATCH_JOB_ID: jobId,
    AWS_BATCH_JOB_ATTEMPT: String(job.attempt),
    RESCALE_PROJECT_ID: task.project_id,
    RESCALE_TASK_ID: task.id,
    RESCALE_JOB_ID: jobId,
    RESCALE_HTC_PROJECT_ID: task.project_id,
    RESCALE_HTC_TASK_ID: task.id,
    RESCALE_HTC_JOB_ID: jobId,
    RESCALE_HTC_REGION: job.region,
    RESCALE_HTC_BEARER_TOKEN: tokens.bearerToken,
    RESCALE_HTC_REFRESH_TOKEN: tokens.refreshToken,
    RESCALE_HTC_API_URL: apiUrl,
    HTC_BASE_URL: apiUrl,
    // Task storage: credentials for the task's folder in the job's region, the S3 endpoint, the two folders.
    ...jobStorageEnvironment(
      s,
      {
        workspaceId: task.workspace_id,
        projectId: task.project_id,
        taskId: task.id,
        userId: user.id,
        region: job.region,
        timeoutSeconds: launch.execTimeoutSeconds,
      },
      apiUrl,
    ),
  });
  launch.env = env;
  return launch;
}
