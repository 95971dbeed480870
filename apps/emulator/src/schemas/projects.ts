// Request schemas of the Project resource (project, dimensions, limits, retention) and the Workspace resource.
import { z } from "zod";
import {
  autoscalingProfileSchema,
  jobPrioritySchema,
  modifierRoleSchema,
  pageQueryShape,
  queryBoolean,
  regionSchema,
  uniqueArray,
} from "./common.js";

export const regionSettingsSchema = z.object({
  computeSettings: z.object({ computeRegion: regionSchema }),
  storageSettings: z.object({ storageRegion: regionSchema }),
});

export const getProjectsQuery = z.object({ onlyMyProjects: queryBoolean.optional(), ...pageQueryShape });

export const createProjectBody = z.object({
  projectName: z.string(),
  projectDescription: z.string(),
  regions: uniqueArray(regionSchema).optional(),
  regionSettings: z.array(regionSettingsSchema).optional(),
});

export const updateProjectBody = z.object({ regions: uniqueArray(regionSchema).optional() });

export const computeEnvironmentSchema = z.object({
  machineType: z.string().min(1),
  priority: jobPrioritySchema,
  region: regionSchema,
  computeScalingPolicy: autoscalingProfileSchema.optional(),
  hyperthreading: z.boolean().optional(),
});

export const projectDimensionsBody = z.array(computeEnvironmentSchema);

const vcpus = z.number().int().min(0).max(999999);

export const createLimitBody = z.object({ vCPUs: vcpus, modifierRole: modifierRoleSchema });
export const updateLimitBody = z.object({ vCPUs: vcpus });

const hours = z.number().int().min(0).max(2147483647);
export const retentionPolicyBody = z.object({ deleteAfter: hours, archiveAfter: hours });
