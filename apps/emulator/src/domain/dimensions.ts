// Compute environments ("dimensions") of workspaces and projects. A project's list is a subset of the
// workspace's; an empty list means the project sets no restriction of its own.
import type { z } from "zod";
import type { ProjectRow } from "../db/repositories/projects.js";
import type { Principal } from "./principal.js";
import { invalidField } from "../errors.js";
import type { projectDimensionsBody } from "../schemas/projects.js";
import type { Core } from "../core.js";
import { type ComputeEnvironment, findEnvironment, providerOf } from "./catalog.js";
import { requireAdministrator } from "./permissions.js";

/** The project's own dimensions (empty: no restriction of its own). */
export function projectDimensions(s: Core, project: ProjectRow): ComputeEnvironment[] {
  return s.repos.projects.dimensions(project.id) as ComputeEnvironment[];
}

export function setProjectDimensions(
  s: Core,
  principal: Principal,
  project: ProjectRow,
  body: z.output<typeof projectDimensionsBody>,
): ComputeEnvironment[] {
  requireAdministrator(principal, "change project dimensions");
  const stored = body.map((entry, i) => {
    // The schema requires none of them (as upstream), but an entry without all three names no environment.
    const { machineType, priority, region } = entry;
    if (machineType === undefined) throw missingMember(i, "machineType");
    if (priority === undefined) throw missingMember(i, "priority");
    if (region === undefined) throw missingMember(i, "region");
    const match = findEnvironment(machineType, priority, region);
    if (!match) {
      throw invalidField(`[${i}]`, `no workspace environment has machineType ${machineType}, priority ${priority} and region ${region}`);
    }
    const gcp = providerOf(match.region) === "GCP";
    return {
      machineType: match.machineType,
      priority: match.priority,
      region: match.region,
      derived: match.derived,
      computeScalingPolicy: gcp ? (entry.computeScalingPolicy ?? "BALANCED") : null,
      hyperthreading: entry.hyperthreading ?? false,
    } satisfies ComputeEnvironment;
  });
  s.repos.projects.setDimensions(project.id, stored);
  return stored;
}

function missingMember(index: number, member: string) {
  return invalidField(`[${index}].${member}`, "is required: an entry names its machine type, priority and region");
}
