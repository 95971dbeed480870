// Shared pieces of the test-control suites (controls-*.test.ts): the admin client, a project with a task, job
// submission, and waiting for jobs by the emulator's own answers.
import { collect, type HtcClient, jobId, paginate, requireMember, unwrap } from "@htcemu/client";
import { type AdminClient, createAdminClient } from "@htcemu/client/admin";
import { loadContract } from "@htcemu/contract";
import { validatingFetch } from "@htcemu/contract/testing";
import { adminContractPath } from "@htcemu/openapi";

export type Ids = { projectId: string; taskId: string };

/** The admin API's own contract (openapi/admin/admin.yaml): every exchange of adminOf() is checked against it. */
export const adminContract = loadContract(adminContractPath, { prefix: "/_emulator/v1" });

export function adminOf(emulator: { rootUrl: string }): AdminClient {
  return createAdminClient(emulator.rootUrl, { fetch: validatingFetch(adminContract) as (request: Request) => Promise<Response> });
}

export async function newTask(client: HtcClient, name = "controls"): Promise<Ids> {
  const project = await unwrap(client.api.POST("/htc/projects", { body: { projectName: name, projectDescription: "" } }));
  const projectId = requireMember(project, "projectId");
  const task = await unwrap(
    client.api.POST("/htc/projects/{projectId}/tasks", { params: { path: { projectId } }, body: { taskName: name, taskDescription: "" } }),
  );
  return { projectId, taskId: requireMember(task, "taskId") };
}

export const shell = { imageName: "htcemu/shell:1", commands: ["sh", "-c", "echo hello"] };

/** Submits one batch; returns the job ids `<parentJobId>:<index>` in index order. */
export async function submit(
  client: HtcClient,
  ids: Ids,
  batchSize: number,
  options: { group?: string; definition?: Record<string, unknown>; retries?: number } = {},
): Promise<string[]> {
  const [batch] = await unwrap(
    client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
      params: { path: ids, query: options.group ? { group: options.group } : {} },
      body: [
        {
          batchSize,
          htcJobDefinition: { ...shell, ...(options.definition ?? {}) } as never,
          ...(options.retries !== undefined ? { retryStrategy: { maxRetries: options.retries } } : {}),
        },
      ],
    }),
  );
  const parentJobId = batch ? requireMember(batch, "parentJobId", "the submitted batch") : "";
  return Array.from({ length: batchSize }, (_, i) => jobId(parentJobId, i));
}

export async function jobsOf(client: HtcClient, ids: Ids) {
  return collect(paginate(client, "/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path: ids } }));
}

export type Job = Awaited<ReturnType<typeof jobsOf>>[number];

export async function jobOf(client: HtcClient, ids: Ids, jobId: string): Promise<Job> {
  return unwrap(
    client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", { params: { path: { ...ids, jobId } } }),
  ) as Promise<Job>;
}

export async function eventsOf(client: HtcClient, ids: Ids, jobId: string) {
  return collect(paginate(client, "/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events", { params: { path: { ...ids, jobId } } }));
}

/** Polls until `done` holds for the task's jobs (or fails after `timeoutMs`). */
export async function waitForJobs(client: HtcClient, ids: Ids, done: (jobs: Job[]) => boolean, timeoutMs = 20_000): Promise<Job[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await jobsOf(client, ids);
    if (done(jobs)) return jobs;
    if (Date.now() > deadline)
      throw new Error(
        `jobs did not get there in ${timeoutMs} ms: ${JSON.stringify(jobs.map((j) => [j.jobUUID, j.status, j.statusReason]))}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const finished = (jobs: Job[]) => jobs.length > 0 && jobs.every((j) => j.status === "SUCCEEDED" || j.status === "FAILED");

export function byId(jobs: Job[]): Map<string, Job> {
  return new Map(jobs.map((j) => [requireMember(j, "jobUUID", "a job"), j]));
}
