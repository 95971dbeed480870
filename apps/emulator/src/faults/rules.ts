// Fault rules (openapi/admin/admin.yaml, tag Faults): what a rule matches, what it injects, and the seeded
// draws that decide whether a matching request or job attempt is hit.
//
// Determinism: an API rule owns a PRNG seeded by its `seed` and advanced once per matching request, so the same
// seed and the same sequence of requests inject the same faults. A job rule draws from a PRNG seeded by its
// `seed`, the job's position in its task and the attempt, so the same submissions fault the same jobs whatever
// the order in which their attempts start. `skip` and `times` count matches in the order they happen.
import { z } from "zod";
import { seededRandom } from "../random.js";

const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

export const faultMatchSchema = z
  .object({
    operations: z.array(z.string().min(1)).optional(),
    methods: z.array(z.enum(methods)).optional(),
    projectId: z.string().optional(),
    taskId: z.string().optional(),
    group: z.string().optional(),
    jobIndexes: z.array(z.number().int().min(0)).optional(),
    attempts: z.array(z.number().int().min(1)).optional(),
  })
  .strict();

export const apiFaultSchema = z
  .object({
    status: z.number().int().min(400).max(599).optional(),
    retryAfterSeconds: z.number().int().min(0).optional(),
    latencyMs: z.number().int().min(0).max(300_000).optional(),
    drop: z.enum(["request", "response"]).optional(),
    errorDescription: z.string().optional(),
  })
  .strict()
  .refine((f) => f.status !== undefined || f.latencyMs !== undefined || f.drop !== undefined, {
    message: "needs at least one of status, latencyMs and drop",
  })
  .refine((f) => !(f.status !== undefined && f.drop !== undefined), { message: "status and drop exclude each other" });

export const jobFaultKinds = ["exitCode", "timeout", "outOfMemory", "imagePullFailure", "vanish", "stuck"] as const;
export const stuckStatuses = ["RUNNABLE", "STARTING", "RUNNING"] as const;

export const jobFaultSchema = z
  .object({
    kind: z.enum(jobFaultKinds),
    exitCode: z.number().int().min(0).max(255).optional(),
    afterSeconds: z.number().min(0).optional(),
    status: z.enum(stuckStatuses).optional(),
    statusReason: z.string().optional(),
    forSeconds: z.number().positive().optional(),
  })
  .strict();

export const faultRuleCreateSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1 to 64 letters, digits, '.', '_' or '-'")
      .optional(),
    description: z.string().optional(),
    match: faultMatchSchema.default({}),
    probability: z.number().min(0).max(1).default(1),
    seed: z.number().int().default(0),
    skip: z.number().int().min(0).default(0),
    times: z.number().int().min(1).nullable().default(null),
    api: apiFaultSchema.optional(),
    job: jobFaultSchema.optional(),
  })
  .strict()
  .refine((r) => (r.api === undefined) !== (r.job === undefined), { message: "give exactly one of api and job" });

export type FaultMatch = z.output<typeof faultMatchSchema>;
export type ApiFault = z.output<typeof apiFaultSchema>;
export type JobFault = z.output<typeof jobFaultSchema>;
export type FaultRuleSpec = z.output<typeof faultRuleCreateSchema>;

export type FaultKind =
  | "api_status"
  | "api_latency"
  | "api_drop"
  | "job_exit_code"
  | "job_timeout"
  | "job_oom"
  | "job_image_pull"
  | "job_vanish"
  | "job_stuck";

export function apiKindOf(fault: ApiFault): FaultKind {
  if (fault.drop) return "api_drop";
  if (fault.status !== undefined) return "api_status";
  return "api_latency";
}

export function jobKindOf(fault: JobFault): FaultKind {
  switch (fault.kind) {
    case "exitCode":
      return "job_exit_code";
    case "timeout":
      return "job_timeout";
    case "outOfMemory":
      return "job_oom";
    case "imagePullFailure":
      return "job_image_pull";
    case "vanish":
      return "job_vanish";
    case "stuck":
      return "job_stuck";
  }
}

/** What a request of the HTC API offers to match on. */
export interface ApiRequestFacts {
  operation: string;
  /** The HTC API, or the emulator's admin API. */
  api: "htc" | "admin";
  method: string;
  projectId?: string | undefined;
  taskId?: string | undefined;
  group?: string | undefined;
  jobIndex?: number | undefined;
}

/** What an attempt of a job offers to match on (and to draw from). */
export interface JobFacts {
  seq: number;
  status: number;
  attempt: number;
  projectId: string;
  taskId: string;
  workspaceId: string;
  group: string;
  index: number;
  jobId: string;
  /** Jobs submitted to the task before this one: the job's position in its task is `before + index`. */
  before: number;
}

export function matchesApi(match: FaultMatch, req: ApiRequestFacts): boolean {
  if (match.operations && !match.operations.includes(req.operation)) return false;
  // Admin operations only for rules that name them: a rule for every request must not lock a test out of the
  // admin API that removes it.
  if (req.api === "admin" && !match.operations) return false;
  if (match.methods && !(match.methods as readonly string[]).includes(req.method)) return false;
  if (match.projectId !== undefined && match.projectId !== req.projectId) return false;
  if (match.taskId !== undefined && match.taskId !== req.taskId) return false;
  if (match.group !== undefined && match.group !== req.group) return false;
  if (match.jobIndexes && (req.jobIndex === undefined || !match.jobIndexes.includes(req.jobIndex))) return false;
  // `attempts` is about jobs; an API rule that names attempts never matches a request.
  if (match.attempts) return false;
  return true;
}

export function matchesJob(match: FaultMatch, job: JobFacts): boolean {
  if (match.projectId !== undefined && match.projectId !== job.projectId) return false;
  if (match.taskId !== undefined && match.taskId !== job.taskId) return false;
  if (match.group !== undefined && match.group !== job.group) return false;
  if (match.jobIndexes && !match.jobIndexes.includes(job.index)) return false;
  if (match.attempts && !match.attempts.includes(job.attempt)) return false;
  return true;
}

/** The draw of a job rule for one attempt: depends on the seed, the job's position in its task and the attempt. */
export function jobDraw(seed: number, job: Pick<JobFacts, "before" | "index" | "attempt">): number {
  return seededRandom(`${seed}|${job.before + job.index}|${job.attempt}`)();
}

export const DEFAULT_STUCK_REASONS: Record<(typeof stuckStatuses)[number], string> = {
  RUNNABLE: "Waiting for capacity: no instance of the required type is available in the region",
  STARTING: "Waiting for the container to start: the instance is still being provisioned",
  RUNNING: "The container is running but stopped making progress",
};
