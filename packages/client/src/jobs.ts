// Job ids and batch submission. A job id is `<parentJobId>:<index>`; a submit request carries at most
// 100 batches of at most 1000 jobs each (htc-api.md §5.3), so large submissions are split client-side.
import type { Client } from "openapi-fetch";
import { throwIfAborted } from "./abort.js";
import { HtcError, unwrap } from "./errors.js";
import type { paths, Readable, Writable } from "@htcemu/openapi/types";

export const MAX_BATCH_SIZE = 1000;
export const MAX_BATCHES_PER_REQUEST = 100;

const SUBMIT_PATH = "/htc/projects/{projectId}/tasks/{taskId}/jobs/batch";
type SubmitOperation = paths[typeof SUBMIT_PATH]["post"];
type SubmitBodyElement = SubmitOperation["requestBody"]["content"]["application/json"][number];

/** One element of a submit request, as sent (read-only fields excluded). */
export type JobBatchRequest = Writable<SubmitBodyElement>;
/** One element of a submit response, as received. */
export type JobBatchResponse = Readable<SubmitBodyElement>;

export function jobId(parentJobId: string, index: number): string {
  if (!parentJobId) throw new RangeError("jobId(): parentJobId is empty");
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`jobId(): index must be a non-negative integer, got ${index}`);
  return `${parentJobId}:${index}`;
}

/** Splits `<parentJobId>:<index>` (the index after the last colon). */
export function parseJobId(id: string): { parentJobId: string; index: number } {
  const colon = id.lastIndexOf(":");
  const parentJobId = id.slice(0, colon);
  const digits = id.slice(colon + 1);
  if (colon <= 0 || !/^\d+$/.test(digits) || !Number.isSafeInteger(Number(digits))) {
    throw new RangeError(`parseJobId(): ${JSON.stringify(id)} is not of the form <parentJobId>:<index>`);
  }
  return { parentJobId, index: Number(digits) };
}

/** A batch the server accepted. */
export interface SubmittedBatch {
  parentJobId: string;
  batchSize: number;
  /** The server's echo of the batch (group, jobDefinitionName, rescaleTimeReceived…). */
  response: JobBatchResponse;
}

export interface SubmitProgress {
  requestsDone: number;
  requestsTotal: number;
  batchesDone: number;
  batchesTotal: number;
  jobsDone: number;
  jobsTotal: number;
}

interface SubmitCommon {
  projectId: string;
  taskId: string;
  /** Assigns every batch to this group (query parameter `group`). */
  group?: string;
  /** Batches per request, at most 100 (the default). */
  batchesPerRequest?: number;
  signal?: AbortSignal;
  onProgress?: (progress: SubmitProgress) => void;
}

export type SubmitJobsOptions = SubmitCommon &
  (
    | {
        /** The batch template; `batchSize` is filled in by the split. */
        template: Omit<JobBatchRequest, "batchSize">;
        /** Total number of jobs (default 1). */
        count?: number;
        /** Jobs per batch, 1…1000 (default 1000). */
        batchSize?: number;
        batches?: never;
      }
    | { batches: readonly JobBatchRequest[]; template?: never; count?: never; batchSize?: never }
  );

export interface SubmitJobsResult {
  batches: SubmittedBatch[];
  totalJobs: number;
  /** Every job id, generated lazily: a million jobs do not become a million-element array. */
  jobIds(): Generator<string, void, undefined>;
}

/** Thrown when a later request fails after earlier ones were accepted: `submitted` lists what went through. */
export class HtcSubmitError extends HtcError {
  override name = "HtcSubmitError";
  readonly submitted: SubmittedBatch[];

  constructor(submitted: SubmittedBatch[], cause: unknown) {
    const jobs = submitted.reduce((n, b) => n + b.batchSize, 0);
    const reason = cause instanceof Error ? cause.message : String(cause);
    super("SUBMIT", `job submission stopped after ${submitted.length} batches (${jobs} jobs) were accepted: ${reason}`, { cause });
    this.submitted = submitted;
  }
}

type ClientLike = Client<paths> | { api: Client<paths> };

/**
 * Submits jobs in requests of at most 100 batches, sequentially. Submission is a POST and is never
 * retried automatically (a replay would duplicate jobs). If a request fails after earlier ones were
 * accepted, throws HtcSubmitError listing the accepted batches; a failing first request throws as is.
 */
export async function submitJobs(client: ClientLike, options: SubmitJobsOptions): Promise<SubmitJobsResult> {
  const api = "api" in client ? client.api : client;
  const batches = planBatches(options);
  const perRequest = options.batchesPerRequest ?? MAX_BATCHES_PER_REQUEST;
  if (!Number.isInteger(perRequest) || perRequest < 1 || perRequest > MAX_BATCHES_PER_REQUEST) {
    throw new RangeError(`submitJobs(): batchesPerRequest must be 1…${MAX_BATCHES_PER_REQUEST}`);
  }
  const jobsTotal = batches.reduce((n, b) => n + (b.batchSize ?? 1), 0);
  const requestsTotal = Math.ceil(batches.length / perRequest);
  const submitted: SubmittedBatch[] = [];

  for (let r = 0; r < requestsTotal; r++) {
    const chunk = batches.slice(r * perRequest, (r + 1) * perRequest);
    try {
      throwIfAborted(options.signal);
      const echoed = await unwrap(
        api.POST(SUBMIT_PATH, {
          params: {
            path: { projectId: options.projectId, taskId: options.taskId },
            query: options.group === undefined ? {} : { group: options.group },
          },
          body: chunk,
          signal: options.signal,
        }),
      );
      submitted.push(...matchResponse(chunk, echoed as JobBatchResponse[]));
    } catch (error) {
      if (submitted.length === 0) throw error;
      throw new HtcSubmitError(submitted, error);
    }
    options.onProgress?.({
      requestsDone: r + 1,
      requestsTotal,
      batchesDone: submitted.length,
      batchesTotal: batches.length,
      jobsDone: submitted.reduce((n, b) => n + b.batchSize, 0),
      jobsTotal,
    });
  }

  return {
    batches: submitted,
    totalJobs: jobsTotal,
    *jobIds() {
      for (const batch of submitted) for (let i = 0; i < batch.batchSize; i++) yield jobId(batch.parentJobId, i);
    },
  };
}

/** The batches to send, each with an explicit batchSize so job ids can be derived. */
function planBatches(options: SubmitJobsOptions): JobBatchRequest[] {
  if (options.batches) {
    if (options.batches.length === 0) throw new RangeError("submitJobs(): batches is empty");
    return options.batches.map((b, i) => ({ ...b, batchSize: checkBatchSize(b.batchSize ?? 1, `batches[${i}].batchSize`) }));
  }
  const count = options.count ?? 1;
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`submitJobs(): count must be a positive integer, got ${count}`);
  const size = checkBatchSize(options.batchSize ?? MAX_BATCH_SIZE, "batchSize");
  const out: JobBatchRequest[] = [];
  for (let left = count; left > 0; left -= size) out.push({ ...options.template, batchSize: Math.min(size, left) });
  return out;
}

function checkBatchSize(size: number, what: string): number {
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE) {
    throw new RangeError(`submitJobs(): ${what} must be 1…${MAX_BATCH_SIZE}, got ${size}`);
  }
  return size;
}

function matchResponse(sent: JobBatchRequest[], echoed: JobBatchResponse[]): SubmittedBatch[] {
  if (!Array.isArray(echoed) || echoed.length !== sent.length) {
    throw new HtcError(
      "UNEXPECTED_RESPONSE",
      `submit answered ${Array.isArray(echoed) ? echoed.length : "no"} batches for ${sent.length} sent`,
    );
  }
  return echoed.map((response, i) => {
    if (typeof response.parentJobId !== "string" || !response.parentJobId) {
      throw new HtcError("UNEXPECTED_RESPONSE", `submit response element ${i} has no parentJobId`);
    }
    return { parentJobId: response.parentJobId, batchSize: response.batchSize ?? sent[i]?.batchSize ?? 1, response };
  });
}
