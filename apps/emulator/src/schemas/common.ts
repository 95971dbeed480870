// zod building blocks shared by the request schemas. They mirror components of openapi/ (the enums and the
// pagination parameters); test/request-schemas.test.ts checks every request schema against the contract.
import { z } from "zod";
import { allRegions } from "../domain/catalog.js";
import { statusNames } from "../jobs/status.js";

export const regionSchema = z.enum(allRegions);
export const architectureSchema = z.enum(["AARCH64", "X86", "A100"]);
export const cloudProviderSchema = z.enum(["AWS", "GCP", "NGC", "AZURE", "RC", "COREWEAVE", "UNASSIGNED"]);
export const jobPrioritySchema = z.enum(["ON_DEMAND_PRIORITY", "ON_DEMAND_ECONOMY"]);
export const modifierRoleSchema = z.enum(["WORKSPACE_ADMIN", "PROJECT_ADMIN"]);
export const lifecycleStatusSchema = z.enum(["DELETED", "ACTIVE", "ARCHIVED"]);
export const autoscalingProfileSchema = z.enum(["PROFILE_UNSPECIFIED", "OPTIMIZE_UTILIZATION", "BALANCED", "UNRECOGNIZED"]);
/** The statuses a job has (jobs/status.ts), and two of production's that the emulator never reaches. */
export const jobStatusSchema = z.enum([...statusNames, "POD_SUCCEEDED", "POD_FAILED"]);

export const int32 = () => z.number().int().min(-2147483648).max(2147483647);

/** An array whose items must be distinct (`uniqueItems: true`). */
export function uniqueArray<T extends z.ZodType>(item: T) {
  return z.array(item).refine((values) => new Set(values.map((v) => JSON.stringify(v))).size === values.length, {
    message: "must not repeat items",
  });
}

/**
 * A member the contract lets clients leave out or send as `null`; production's backend reads both as "no
 * value", and so does every reader here (`??`, `?.`).
 */
export function optionalNullable<T extends z.ZodType>(schema: T) {
  return schema.nullable().optional();
}

/** Query booleans arrive as text. */
export const queryBoolean = z.enum(["true", "false"]).transform((v) => v === "true");

/** Query integers arrive as text; only plain decimal integers are accepted. */
export function queryInt(min: number, max: number) {
  return z
    .string()
    .regex(/^-?\d+$/, "must be an integer")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 10_000;

export const pageQueryShape = {
  pageIndex: z.string().optional(),
  pageSize: queryInt(1, MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
};

export const pageQuery = z.object(pageQueryShape);
