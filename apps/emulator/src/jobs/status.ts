// Job statuses as stored (small integers keep the jobs table and its indexes compact) and as served.
import { JOB_STATUSES } from "@htcemu/client";

export const JobStatus = {
  SUBMITTED_TO_RESCALE: 0,
  SUBMITTED_TO_PROVIDER: 1,
  RUNNABLE: 2,
  STARTING: 3,
  RUNNING: 4,
  SUCCEEDED: 5,
  FAILED: 6,
} as const;

export type JobStatusCode = (typeof JobStatus)[keyof typeof JobStatus];

/** Status names by code: the client's lifecycle list, so a code is its name's index. */
export const statusNames = JOB_STATUSES;

export type JobStatusName = (typeof statusNames)[number];

export function statusCode(name: string): JobStatusCode | undefined {
  const i = (statusNames as readonly string[]).indexOf(name);
  return i < 0 ? undefined : (i as JobStatusCode);
}

export function isTerminal(status: number): boolean {
  return status === JobStatus.SUCCEEDED || status === JobStatus.FAILED;
}

/** Submission priority as stored: on-demand jobs are dispatched before economy (spot) jobs. */
export const Priority = { ON_DEMAND_PRIORITY: 0, ON_DEMAND_ECONOMY: 1 } as const;
