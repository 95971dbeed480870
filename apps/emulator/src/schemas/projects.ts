// Request schemas of the Project resource (project, dimensions, limits, retention) and the Workspace resource.
import { z } from "zod";
import {
  autoscalingProfileSchema,
  jobPrioritySchema,
  modifierRoleSchema,
  pageQueryShape,
  optionalNullable,
  queryBoolean,
  regionSchema,
} from "./common.js";

/** As upstream, neither region is required by the schema; the domain refuses a setting without its compute region. */
export const regionSettingsSchema = z.object({
  computeSettings: z.object({ computeRegion: regionSchema.optional() }),
  storageSettings: z.object({ storageRegion: regionSchema.optional() }),
});

export const getProjectsQuery = z.object({ onlyMyProjects: queryBoolean.optional(), ...pageQueryShape });

export const createProjectBody = z.object({
  projectName: z.string(),
  projectDescription: z.string(),
  regions: z.array(regionSchema).optional(),
  regionSettings: z.array(regionSettingsSchema).optional(),
});

export const updateProjectBody = z.object({ regions: z.array(regionSchema).optional() });

/** As upstream, no member is required by the schema; the domain refuses an entry that names no environment. */
export const computeEnvironmentSchema = z.object({
  machineType: z.string().optional(),
  priority: jobPrioritySchema.optional(),
  region: regionSchema.optional(),
  computeScalingPolicy: optionalNullable(autoscalingProfileSchema),
  hyperthreading: z.boolean().optional(),
});

export const projectDimensionsBody = z.array(computeEnvironmentSchema);

const vcpus = z.number().int().min(0).max(999999);

export const createLimitBody = z.object({ vCPUs: vcpus, modifierRole: modifierRoleSchema });
export const updateLimitBody = z.object({ vCPUs: vcpus });

const hours = z.number().int().min(0).max(2147483647);
export const retentionPolicyBody = z.object({ deleteAfter: hours, archiveAfter: hours });
