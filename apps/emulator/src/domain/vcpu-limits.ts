// The vCPU caps that apply to jobs, over the repositories alone (no request, no core), so the limit
// endpoints, the metrics and the scheduler's admission (jobs/vcpu-accounting.ts) read one implementation.
import type { IdentityRepository } from "../db/repositories/identity.js";
import type { ProjectRepository } from "../db/repositories/projects.js";

export interface LimitReader {
  projects: Pick<ProjectRepository, "limits">;
  identity: Pick<IdentityRepository, "workspace">;
}

/** The workspace's vCPU limit, or `null` when it has none. */
export function workspaceVcpuLimit(repos: LimitReader, workspaceId: string): number | null {
  return repos.identity.workspace(workspaceId)?.vcpu_limit ?? null;
}

/** The vCPU cap of a project's running jobs: the smallest of its limits and its workspace's, or `null` when nothing caps them. */
export function effectiveVcpuLimit(repos: LimitReader, project: { id: string; workspace_id: string }): number | null {
  let cap = workspaceVcpuLimit(repos, project.workspace_id);
  for (const limit of repos.projects.limits(project.id)) cap = cap === null ? limit.vcpus : Math.min(cap, limit.vcpus);
  return cap;
}
