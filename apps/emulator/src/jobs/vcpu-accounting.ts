// The vCPUs of admitted jobs (from SUBMITTED_TO_PROVIDER until they end) per project and per workspace, held
// against the caps of domain/vcpu-limits.ts: the project's effectiveVcpuLimit() (its smallest limit, or its
// workspace's if smaller) and the workspace's limit, which caps all its projects together. Admission asks how
// many jobs of a run fit; every admitted job adds its vCPUs, and gives them back when it ends or is cancelled.
import { effectiveVcpuLimit, type LimitReader, workspaceVcpuLimit } from "../domain/vcpu-limits.js";

/** Whose vCPUs: a job's project and workspace. */
export interface VcpuOwner {
  projectId: string;
  workspaceId: string;
}

interface Caps {
  project: number | null;
  workspace: number | null;
}

export class VcpuAccounting {
  private readonly projects = new Map<string, number>();
  private readonly workspaces = new Map<string, number>();
  /** Caps read during one admission pass: limits change rarely, and a pass over many runs reads each once. */
  private readonly caps = new Map<string, Caps>();

  constructor(private readonly limits: LimitReader) {}

  /** Starts an admission pass: caps are read again from the repositories. */
  refreshCaps(): void {
    this.caps.clear();
  }

  private capsOf(owner: VcpuOwner): Caps {
    let caps = this.caps.get(owner.projectId);
    if (!caps) {
      caps = {
        project: effectiveVcpuLimit(this.limits, { id: owner.projectId, workspace_id: owner.workspaceId }),
        workspace: workspaceVcpuLimit(this.limits, owner.workspaceId),
      };
      this.caps.set(owner.projectId, caps);
    }
    return caps;
  }

  /** How many of `count` jobs of `vcpus` vCPUs each the owner's caps let in now (0 or less: none). */
  admissible(owner: VcpuOwner, vcpus: number, count: number): number {
    const caps = this.capsOf(owner);
    let allowed = count;
    if (caps.project !== null) allowed = Math.min(allowed, Math.floor((caps.project - this.usageOf(owner.projectId)) / vcpus));
    if (caps.workspace !== null)
      allowed = Math.min(allowed, Math.floor((caps.workspace - this.workspaceUsageOf(owner.workspaceId)) / vcpus));
    return allowed;
  }

  /** Counts `vcpus` more (or, negative, fewer) against the owner. */
  add(owner: VcpuOwner, vcpus: number): void {
    this.projects.set(owner.projectId, (this.projects.get(owner.projectId) ?? 0) + vcpus);
    this.workspaces.set(owner.workspaceId, (this.workspaces.get(owner.workspaceId) ?? 0) + vcpus);
  }

  release(owner: VcpuOwner, vcpus: number): void {
    this.add(owner, -vcpus);
  }

  usageOf(projectId: string): number {
    return this.projects.get(projectId) ?? 0;
  }

  workspaceUsageOf(workspaceId: string): number {
    return this.workspaces.get(workspaceId) ?? 0;
  }

  /** Forgets a workspace's usage and that of its projects (their jobs were discarded). */
  forgetWorkspace(workspaceId: string, projectIds: Iterable<string>): void {
    this.workspaces.delete(workspaceId);
    for (const id of projectIds) this.projects.delete(id);
    this.caps.clear();
  }

  clear(): void {
    this.projects.clear();
    this.workspaces.clear();
    this.caps.clear();
  }
}
