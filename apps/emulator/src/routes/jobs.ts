// Job resource (submit, list, get, events, logs, cancel) and the job statistics of the Task resource.
import { isoTime } from "../clock.js";
import { requireTask } from "../domain/tasks.js";
import { ApiError, invalidField, jobNotFound } from "../errors.js";
import type { AppContext } from "../http/env.js";
import { decodeCursor, encodeCursor, nextUrl, pageBody, pageRequest } from "../http/pagination.js";
import type { HtcApi } from "../http/router.js";
import { jobEvents, jobView, summaryView } from "../jobs/views.js";
import { statusCode } from "../jobs/status.js";
import {
  cancelJobsBody,
  cancelJobsQuery,
  getJobsQuery,
  getLogsQuery,
  groupSummaryQuery,
  pageOnlyQuery,
  submitJobsBody,
  submitJobsQuery,
} from "../schemas/jobs.js";
import { taskPath } from "./tasks.js";

function task(c: AppContext) {
  return requireTask(c.get("core"), c.get("principal"), c.req.param("projectId")!, c.req.param("taskId")!);
}

/** The job operations answer their 404s in the `HTCRequestError` shape. */
function jobTask(c: AppContext) {
  try {
    return task(c);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) throw jobNotFound((error.body as { errorDescription: string }).errorDescription);
    throw error;
  }
}

function pathJob(c: AppContext) {
  const found = jobTask(c);
  const jobId = c.req.param("jobId")!;
  const jobs = c.get("jobs");
  const seq = jobs.seqOf(found.task.seq, jobId);
  const job = seq === undefined ? undefined : c.get("core").repos.jobs.job(seq);
  if (!job) throw jobNotFound(`Job ${jobId} does not exist in task ${found.task.id}.`);
  return { ...found, job, batch: jobs.batches.get(job.batch_seq) };
}

/** Integer offsets as cursors, for short derived lists (events, group summaries). */
function offsetOf(pageIndex: string | undefined): number {
  const raw = decodeCursor(pageIndex);
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw invalidField("pageIndex", "is not a cursor this server issued");
  return n;
}

function slicePage<T>(c: AppContext, all: T[], pageIndex: string | undefined, size: number): { items: T[]; next?: string } {
  const offset = offsetOf(pageIndex);
  const items = all.slice(offset, offset + size);
  return offset + size < all.length ? { items, next: nextUrl(c, encodeCursor(offset + size)) } : { items };
}

export function registerJobRoutes(api: HtcApi): void {
  api.add({
    operationId: "submitJobs",
    method: "POST",
    path: `${taskPath}/jobs/batch`,
    body: submitJobsBody,
    query: submitJobsQuery,
    handler: async (c, { body, query }) => {
      const { project, task: t } = task(c);
      return c.get("jobs").submit(c.get("principal"), project, t, query.group ?? "", body);
    },
  });

  api.add({
    operationId: "cancelJobs",
    method: "POST",
    path: `${taskPath}/jobs/cancel`,
    body: cancelJobsBody,
    query: cancelJobsQuery,
    arrayQuery: ["jobId"],
    handler: (c, { query }) => {
      const { task: t } = task(c);
      const jobs = c.get("jobs");
      const groupId = query.group ? c.get("core").repos.jobs.findGroupId(t.seq, query.group) : undefined;
      if (query.group && groupId === undefined) return;
      const seqs = query.jobId?.map((id) => jobs.seqOf(t.seq, id)).filter((s): s is number => s !== undefined);
      jobs.cancel(t, { ...(groupId !== undefined ? { groupId } : {}), ...(seqs ? { seqs } : {}) });
    },
  });

  api.add({
    operationId: "getJobs",
    method: "GET",
    path: `${taskPath}/jobs`,
    query: getJobsQuery,
    arrayQuery: ["jobId"],
    jobToken: "self",
    handler: (c, { query }) => {
      const { task: t } = jobTask(c);
      const jobs = c.get("jobs");
      const { repos } = c.get("core");
      const page = pageRequest(query);
      const empty = () => ({ items: [] });
      let groupId: number | undefined;
      if (query.group !== undefined) {
        groupId = repos.jobs.findGroupId(t.seq, query.group);
        if (groupId === undefined) return empty();
      }
      const status = query.status === undefined ? undefined : statusCode(query.status);
      if (query.status !== undefined && status === undefined) return empty(); // POD_* never happen
      const seqs = query.jobId?.map((id) => jobs.seqOf(t.seq, id)).filter((s): s is number => s !== undefined);
      const after = page.after === undefined ? 0 : Number(page.after);
      if (!Number.isSafeInteger(after)) throw invalidField("pageIndex", "is not a cursor this server issued");
      const rows = repos.jobs.page(
        {
          taskSeq: t.seq,
          ...(groupId !== undefined ? { groupId } : {}),
          ...(status !== undefined ? { status } : {}),
          ...(seqs ? { seqs } : {}),
        },
        after,
        page.size + 1,
      );
      const view = query.viewType ?? "FULL";
      return pageBody(
        c,
        rows,
        page,
        (r) => r.seq,
        (r) => jobView(t, jobs.batches.get(r.batch_seq), r, view),
      );
    },
  });

  api.add({
    operationId: "getJob",
    method: "GET",
    path: `${taskPath}/jobs/{jobId}`,
    jobToken: "self",
    handler: (c) => {
      const { task: t, job, batch } = pathJob(c);
      return jobView(t, batch, job, "FULL");
    },
  });

  api.add({
    operationId: "getEvents",
    method: "GET",
    path: `${taskPath}/jobs/{jobId}/events`,
    query: pageOnlyQuery,
    jobToken: "self",
    handler: (c, { query }) => {
      const { job, batch } = pathJob(c);
      const events = jobEvents(batch, job, job.attempt > 1 ? c.get("core").repos.jobs.attempts(job.seq) : []);
      return slicePage(c, events, query.pageIndex, query.pageSize);
    },
  });

  api.add({
    operationId: "getLogs",
    method: "GET",
    path: `${taskPath}/jobs/{jobId}/logs`,
    query: getLogsQuery,
    jobToken: "self",
    handler: (c, { query }) => {
      const { job } = pathJob(c);
      const page = pageRequest(query);
      const cursor = page.after === undefined ? undefined : Number(page.after);
      if (cursor !== undefined && !Number.isSafeInteger(cursor)) throw invalidField("pageIndex", "is not a cursor this server issued");
      const rows = c.get("core").repos.jobs.logs(job.seq, query.sort, cursor, page.size + 1);
      return pageBody(
        c,
        rows,
        page,
        (r) => r.at,
        (r) => ({ timestamp: isoTime(r.at), message: r.message }),
      );
    },
  });

  api.add({
    operationId: "GetTaskStats",
    method: "GET",
    path: `${taskPath}/summary-statistics`,
    handler: (c) => {
      const { task: t } = task(c);
      return summaryView(null, c.get("core").repos.jobs.countsOfTask(t.seq));
    },
  });

  api.add({
    operationId: "getGroupSummaryStatistics",
    method: "GET",
    path: `${taskPath}/group-summary-statistics`,
    query: groupSummaryQuery,
    arrayQuery: ["group"],
    handler: (c, { query }) => {
      const { task: t } = task(c);
      const repo = c.get("core").repos.jobs;
      const groups = query.group
        ? query.group.map((name) => ({ name, id: repo.findGroupId(t.seq, name) }))
        : repo.groupsOfTask(t.seq).filter((g) => g.name !== "");
      const offset = offsetOf(query.pageIndex);
      const slice = groups.slice(offset, offset + query.pageSize);
      const items = slice.map((g) => summaryView(g.name, g.id === undefined ? [] : repo.countsOfGroup(g.id)));
      const more = offset + query.pageSize < groups.length;
      return more ? { items, next: nextUrl(c, encodeCursor(offset + query.pageSize)) } : { items };
    },
  });

  api.add({
    operationId: "getTaskGroups",
    method: "GET",
    path: `${taskPath}/groups`,
    query: pageOnlyQuery,
    handler: (c) => {
      const { task: t } = task(c);
      return c
        .get("core")
        .repos.jobs.groupsOfTask(t.seq)
        .filter((g) => g.name !== "")
        .map((g) => g.name);
    },
  });
}
