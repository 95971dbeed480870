// Polls status counts until every job of a group (or of a whole task) has finished — the tutorial's
// "SUCCEEDED + FAILED == total" loop, with a timeout, an AbortSignal and progress callbacks.
import type { Client } from "openapi-fetch";
import { sleep, throwIfAborted } from "./abort.js";
import { HtcTimeoutError, unwrap } from "./errors.js";
import type { paths } from "@htcemu/openapi/types";

export interface GroupSummary {
  /** The group, or null for a whole-task summary. */
  group: string | null;
  /** Count per status, as the server reported it. */
  jobStatuses: Record<string, number>;
  total: number;
  succeeded: number;
  failed: number;
  /** Jobs not yet in a terminal status. */
  active: number;
  /** True once total > 0 and every job is terminal. */
  done: boolean;
}

export interface WaitForGroupOptions {
  projectId: string;
  taskId: string;
  /** Without a group, the whole task's summary statistics are watched. */
  group?: string;
  /** Jobs expected in the group: guards against finishing before the server has counted them all. */
  expectedJobs?: number;
  /** Poll interval. Default 5000 ms (the server refreshes statuses about every 30 s). */
  intervalMs?: number;
  /** Give up with HtcTimeoutError after this long. Default: wait forever. */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (summary: GroupSummary) => void;
}

type ClientLike = Client<paths> | { api: Client<paths> };

export async function waitForGroup(client: ClientLike, options: WaitForGroupOptions): Promise<GroupSummary> {
  const api = "api" in client ? client.api : client;
  const interval = options.intervalMs ?? 5000;
  const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
  for (;;) {
    throwIfAborted(options.signal);
    const summary = summarize(await fetchCounts(api, options), options);
    options.onProgress?.(summary);
    if (summary.done) return summary;
    const left = deadline - Date.now();
    if (left <= 0) {
      const what = options.group === undefined ? `task ${options.taskId}` : `group ${JSON.stringify(options.group)}`;
      throw new HtcTimeoutError(
        `waitForGroup: ${what} not finished after ${options.timeoutMs} ms (${summary.total - summary.active}/${summary.total} done)`,
        options.timeoutMs ?? 0,
      );
    }
    await sleep(Math.min(interval, left), options.signal);
  }
}

async function fetchCounts(
  api: Client<paths>,
  options: WaitForGroupOptions,
): Promise<{ group: string | null; jobStatuses: Record<string, number> }> {
  const path = { projectId: options.projectId, taskId: options.taskId };
  if (options.group === undefined) {
    const task = await unwrap(
      api.GET("/htc/projects/{projectId}/tasks/{taskId}/summary-statistics", { params: { path }, signal: options.signal }),
    );
    return { group: null, jobStatuses: counts(task.jobStatuses) };
  }
  const page = await unwrap(
    api.GET("/htc/projects/{projectId}/tasks/{taskId}/group-summary-statistics", {
      params: { path, query: { group: [options.group] } },
      signal: options.signal,
    }),
  );
  const items = page.items ?? [];
  // The filter should leave exactly our group; match by name in case a server returns more.
  const mine = items.find((item) => item.group === options.group);
  return { group: options.group, jobStatuses: counts(mine?.jobStatuses) };
}

function counts(raw: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (raw && typeof raw === "object") {
    for (const [status, n] of Object.entries(raw)) if (typeof n === "number" && Number.isFinite(n)) out[status] = n;
  }
  return out;
}

export function summarize(
  data: { group: string | null; jobStatuses: Record<string, number> },
  options: { expectedJobs?: number } = {},
): GroupSummary {
  let total = 0;
  let succeeded = 0;
  let failed = 0;
  for (const [status, n] of Object.entries(data.jobStatuses)) {
    total += n;
    if (status === "SUCCEEDED" || status === "POD_SUCCEEDED") succeeded += n;
    else if (status === "FAILED" || status === "POD_FAILED") failed += n;
  }
  const expected = Math.max(total, options.expectedJobs ?? 0);
  return {
    group: data.group,
    jobStatuses: data.jobStatuses,
    total: expected,
    succeeded,
    failed,
    active: expected - succeeded - failed,
    done: expected > 0 && succeeded + failed >= expected,
  };
}
