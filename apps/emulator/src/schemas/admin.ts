// zod schemas of the admin API's requests (openapi/admin/admin.yaml); test/request-schemas.test.ts checks them
// against the admin document as it checks the HTC ones. Fault rules have theirs in faults/rules.ts.
import { z } from "zod";
import { statusNames } from "../jobs/status.js";

const vcpus = z.number().int().min(0).max(999999).nullable();

export const workspaceCreateBody = z.object({
  name: z.string().min(1),
  organizationCode: z.string().nullable().optional(),
  vCPUs: vcpus.optional(),
});

export const workspaceLimitBody = z.object({ vCPUs: vcpus });

export const userCreateBody = z.object({
  email: z.string().min(1),
  fullName: z.string().min(1),
  workspaceAdmin: z.boolean().default(false),
  organizationAdmin: z.boolean().default(false),
  rescaleAdmin: z.boolean().default(false),
  apiKey: z.string().min(8).optional(),
});

export const apiKeyCreateBody = z.object({ apiKey: z.string().min(8).optional() }).optional();

export const clockChangeBody = z.object({ advanceSeconds: z.number().min(0).optional(), speed: z.number().positive().optional() });

export const jobTokenCreateBody = z.object({
  userId: z.string(),
  projectId: z.string(),
  taskId: z.string(),
  jobId: z.string().optional(),
  claims: z.array(z.object({ name: z.string(), value: z.string() })).default([]),
});

export const faultLogQuery = z.object({
  ruleId: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** At most this many jobs move per step request. */
export const STEP_LIMIT = 1000;

/** Where a step may move a job to: any status after the first. */
const stepTargets = statusNames.slice(1) as Exclude<(typeof statusNames)[number], "SUBMITTED_TO_RESCALE">[];

export const stepBody = z
  .object({
    projectId: z.string().min(1),
    taskId: z.string().min(1),
    jobIds: z.array(z.string()).max(STEP_LIMIT).optional(),
    group: z.string().optional(),
    to: z.enum(stepTargets).optional(),
    exitCode: z.number().int().min(0).max(255).optional(),
    failure: z.enum(["timeout", "outOfMemory", "vanish"]).optional(),
  })
  .strict();

export const resetBody = z
  .object({ workspaceId: z.string().min(1).optional() })
  .strict()
  .optional();
