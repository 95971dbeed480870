// Workspaces, users and API keys: created by the emulator's admin API and its start-up, read by authentication.
import type { Clock } from "../clock.js";
import type { IdentityRepository, UserRow, WorkspaceRow } from "../db/repositories/identity.js";
import type { Seed } from "../options.js";
import { newApiKey, newUserId, newWorkspaceId } from "./ids.js";

export interface NewWorkspaceInput {
  name: string;
  organizationCode?: string | null;
  vcpuLimit?: number | null;
}

export interface NewUserInput {
  workspaceId: string;
  email: string;
  fullName: string;
  workspaceAdmin?: boolean;
  organizationAdmin?: boolean;
  rescaleAdmin?: boolean;
  superuser?: boolean;
  /** Use this API key instead of a generated one. */
  apiKey?: string;
}

export class IdentityService {
  constructor(
    private readonly repo: IdentityRepository,
    private readonly clock: Clock,
  ) {}

  createWorkspace(input: NewWorkspaceInput): WorkspaceRow {
    const now = this.clock.now();
    let id = newWorkspaceId();
    while (this.repo.workspace(id)) id = newWorkspaceId();
    const row = {
      id,
      name: input.name,
      organization_code: input.organizationCode ?? null,
      vcpu_limit: input.vcpuLimit ?? null,
      vcpu_limit_updated_at: input.vcpuLimit == null ? null : now,
      created_at: now,
    };
    this.repo.insertWorkspace(row);
    return this.repo.workspace(id)!;
  }

  /** Creates a user with one API key; returns both. */
  createUser(input: NewUserInput): { user: UserRow; apiKey: string } {
    const now = this.clock.now();
    let id = newUserId();
    while (this.repo.user(id)) id = newUserId();
    const row = {
      id,
      workspace_id: input.workspaceId,
      email: input.email,
      full_name: input.fullName,
      is_workspace_admin: input.workspaceAdmin ? 1 : 0,
      is_organization_admin: input.organizationAdmin ? 1 : 0,
      is_rescale_admin: input.rescaleAdmin ? 1 : 0,
      is_superuser: input.superuser ? 1 : 0,
      created_at: now,
    };
    const apiKey = input.apiKey ?? newApiKey();
    this.repo.insertUserWithKey(row, apiKey);
    return { user: this.repo.user(id)!, apiKey };
  }

  createApiKey(userId: string, key = newApiKey()): string {
    this.repo.insertApiKey(key, userId, this.clock.now());
    return key;
  }

  /**
   * On first start, a default workspace with one administrator whose key is `apiKey` (or a generated one).
   * On later starts, the existing default user; a different `apiKey` is added to that user, so a restart with
   * a new `--api-key` keeps working without losing state.
   */
  ensureDefaultUser(apiKey?: string): { user: UserRow; workspace: WorkspaceRow; apiKey: string; created: boolean } {
    const existing = this.repo.firstUser();
    if (existing) {
      const keys = this.repo.apiKeysOfUser(existing.id);
      let key = keys[0];
      if (apiKey && !keys.includes(apiKey)) {
        const owner = this.repo.userByApiKey(apiKey);
        if (owner && owner.id !== existing.id) throw new Error("the given API key belongs to another user");
        if (!owner) this.repo.insertApiKey(apiKey, existing.id, this.clock.now());
        key = apiKey;
      } else if (apiKey) key = apiKey;
      if (!key) key = this.createApiKey(existing.id);
      return { user: existing, workspace: this.repo.workspace(existing.workspace_id)!, apiKey: key, created: false };
    }
    const workspace = this.createWorkspace({ name: "Emulator Workspace", organizationCode: "emulator-org" });
    const { user, apiKey: key } = this.createUser({
      workspaceId: workspace.id,
      email: "developer@htc-emulator.local",
      fullName: "Emulator Developer",
      workspaceAdmin: true,
      ...(apiKey ? { apiKey } : {}),
    });
    return { user, workspace, apiKey: key, created: true };
  }
}

/** Creates the seed's workspaces and users; a user whose API key exists already is skipped (restarts). */
export function applySeed(identity: IdentityService, repo: IdentityRepository, seed: Seed): void {
  for (const w of seed.workspaces) {
    const users = (w.users ?? []).filter((u) => !repo.userByApiKey(u.apiKey));
    if (users.length === 0 && (w.users ?? []).length > 0) continue;
    const existing = repo.workspaces().find((row) => row.name === w.name);
    const workspace =
      existing ?? identity.createWorkspace({ name: w.name, organizationCode: w.organizationCode ?? null, vcpuLimit: w.vCPUs ?? null });
    for (const u of users) {
      identity.createUser({
        workspaceId: workspace.id,
        email: u.email,
        fullName: u.fullName,
        apiKey: u.apiKey,
        workspaceAdmin: u.workspaceAdmin ?? false,
      });
    }
  }
}

/** The role names a user's token lists in its `groups` claim. */
export function rolesOf(user: UserRow): string[] {
  const roles: string[] = [];
  if (user.is_workspace_admin) roles.push("WORKSPACE_ADMIN");
  if (user.is_organization_admin) roles.push("ORGANIZATION_ADMIN");
  if (user.is_rescale_admin) roles.push("RESCALE_ADMIN");
  if (user.is_superuser) roles.push("SUPERUSER");
  return roles;
}
