// vCPU limits of projects and workspaces. The cap that applies to a project is the smallest of its limits and
// its workspace's limit: effectiveVcpuLimit() (vcpu-limits.ts), which the scheduler's admission reads too.
import { isoTime } from "../clock.js";
import type { WorkspaceRow } from "../db/repositories/identity.js";
import type { LimitRow, ProjectRow } from "../db/repositories/projects.js";
import type { Principal } from "./principal.js";
import { notFound } from "../errors.js";
import type { components, Sent } from "../contract-types.js";
import type { Core } from "../core.js";
import { requireAdministrator, requireProjectAdministrator } from "./permissions.js";

type Schemas = components["schemas"];

export function limitView(row: LimitRow): Sent<"HTCProjectLimit"> {
  return {
    id: row.id,
    projectId: row.project_id,
    workspaceId: row.workspace_id,
    vCPUs: row.vcpus,
    // Stored from the request's enum.
    modifierRole: row.modifier_role as Schemas["ModifierRole"],
    createdBy: row.created_by,
    createdAt: isoTime(row.created_at),
    updatedBy: row.updated_by,
    updatedAt: isoTime(row.updated_at),
  };
}

/** The workspace limit comes from the emulator's configuration (or the admin API), so no user set it. */
export function workspaceLimitView(workspace: WorkspaceRow): Sent<"HTCWorkspaceLimit"> {
  if (workspace.vcpu_limit === null) throw notFound(`Workspace ${workspace.id} has no vCPU limit.`);
  const at = isoTime(workspace.vcpu_limit_updated_at ?? workspace.created_at);
  return { workspaceId: workspace.id, vCPUs: workspace.vcpu_limit, createdBy: null, createdAt: at, updatedBy: null, updatedAt: at };
}

function requireMayModify(principal: Principal, project: ProjectRow, role: string): void {
  if (role === "WORKSPACE_ADMIN") requireAdministrator(principal, "change a WORKSPACE_ADMIN limit");
  else requireProjectAdministrator(principal, project.created_by, "change a PROJECT_ADMIN limit");
}

export function setLimit(s: Core, principal: Principal, project: ProjectRow, role: string, vcpus: number): LimitRow {
  requireMayModify(principal, project, role);
  const now = s.clock.now();
  const existing = s.repos.projects.limitByRole(project.id, role);
  if (existing) {
    s.repos.projects.updateLimit(existing.id, vcpus, principal.user.id, now);
    return s.repos.projects.limit(project.id, existing.id)!;
  }
  const id = s.repos.projects.insertLimit({
    project_id: project.id,
    workspace_id: project.workspace_id,
    vcpus,
    modifier_role: role,
    created_by: principal.user.id,
    updated_by: principal.user.id,
    created_at: now,
    updated_at: now,
  });
  return s.repos.projects.limit(project.id, id)!;
}

export function requireLimit(s: Core, project: ProjectRow, id: number): LimitRow {
  const limit = s.repos.projects.limit(project.id, id);
  if (!limit) throw notFound(`Project ${project.id} has no limit ${id}.`);
  return limit;
}

export function updateLimit(s: Core, principal: Principal, project: ProjectRow, id: number, vcpus: number): LimitRow {
  const limit = requireLimit(s, project, id);
  requireMayModify(principal, project, limit.modifier_role);
  s.repos.projects.updateLimit(id, vcpus, principal.user.id, s.clock.now());
  return s.repos.projects.limit(project.id, id)!;
}

export function deleteLimit(s: Core, principal: Principal, project: ProjectRow, id: number): void {
  const limit = requireLimit(s, project, id);
  requireMayModify(principal, project, limit.modifier_role);
  s.repos.projects.deleteLimit(project.id, id);
}

/** All or nothing: a caller who may not remove one of the limits removes none. */
export function deleteLimits(s: Core, principal: Principal, project: ProjectRow): void {
  for (const limit of s.repos.projects.limits(project.id)) requireMayModify(principal, project, limit.modifier_role);
  s.repos.projects.deleteLimits(project.id);
}

export { effectiveVcpuLimit } from "./vcpu-limits.js";
