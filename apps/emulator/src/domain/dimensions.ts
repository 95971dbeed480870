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
    const match = findEnvironment(entry.machineType, entry.priority, entry.region);
    if (!match) {
      throw invalidField(
        `[${i}]`,
        `no workspace environment has machineType ${entry.machineType}, priority ${entry.priority} and region ${entry.region}`,
      );
    }
    const gcp = providerOf(entry.region) === "GCP";
    return {
      machineType: match.machineType,
      priority: match.priority,
      region: match.region,
      derived: match.derived,
      ...(gcp ? { computeScalingPolicy: entry.computeScalingPolicy ?? "BALANCED" } : {}),
      hyperthreading: entry.hyperthreading ?? false,
    } satisfies ComputeEnvironment;
  });
  s.repos.projects.setDimensions(project.id, stored);
  return stored;
}
