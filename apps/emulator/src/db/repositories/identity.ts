// Persistence of workspaces, users and API keys. Statements are prepared once per database.
// Authentication reads a user and its workspace on every request; `member()` serves them from memory, forgotten
// whenever any row of users, workspaces or api_keys changes (db/table-changes.ts), so a removed user or a
// changed workspace limit is seen by the very next request.
import type { Db } from "../database.js";
import { changeCounter, RowCache } from "../table-changes.js";

export interface WorkspaceRow {
  seq: number;
  id: string;
  name: string;
  organization_code: string | null;
  vcpu_limit: number | null;
  vcpu_limit_updated_at: number | null;
  created_at: number;
}

export interface UserRow {
  seq: number;
  id: string;
  workspace_id: string;
  email: string;
  full_name: string;
  is_workspace_admin: number;
  is_organization_admin: number;
  is_rescale_admin: number;
  is_superuser: number;
  created_at: number;
}

export type NewWorkspace = Omit<WorkspaceRow, "seq">;
export type NewUser = Omit<UserRow, "seq">;

/** A user and its workspace, as authentication needs them (shared by every request: frozen). */
export interface Member {
  readonly user: Readonly<UserRow>;
  readonly workspace: Readonly<WorkspaceRow>;
}

export class IdentityRepository {
  private readonly insertWorkspaceStmt;
  private readonly insertUserStmt;
  private readonly insertKeyStmt;
  private readonly workspaceStmt;
  private readonly userStmt;
  private readonly userByKeyStmt;
  private readonly workspacesStmt;
  private readonly usersOfWorkspaceStmt;
  private readonly keysOfUserStmt;
  private readonly firstUserStmt;
  private readonly setWorkspaceLimitStmt;
  private readonly deleteKeyStmt;
  private readonly members: RowCache<string, Member>;
  private readonly keyHolders: RowCache<string, Member>;
  private readonly readMember = (userId: string): Member | undefined => this.memberOf(this.user(userId));
  private readonly readKeyHolder = (key: string): Member | undefined => this.memberOf(this.userByApiKey(key));

  constructor(private readonly db: Db) {
    const changes = changeCounter(db, "identity", ["users", "workspaces", "api_keys"]);
    this.members = new RowCache(db, changes);
    this.keyHolders = new RowCache(db, changes);
    this.insertWorkspaceStmt = db.prepare(
      `INSERT INTO workspaces (id, name, organization_code, vcpu_limit, vcpu_limit_updated_at, created_at)
       VALUES (@id, @name, @organization_code, @vcpu_limit, @vcpu_limit_updated_at, @created_at)`,
    );
    this.insertUserStmt = db.prepare(
      `INSERT INTO users (id, workspace_id, email, full_name, is_workspace_admin, is_organization_admin,
         is_rescale_admin, is_superuser, created_at)
       VALUES (@id, @workspace_id, @email, @full_name, @is_workspace_admin, @is_organization_admin,
         @is_rescale_admin, @is_superuser, @created_at)`,
    );
    this.insertKeyStmt = db.prepare("INSERT INTO api_keys (key, user_id, created_at) VALUES (?, ?, ?)");
    this.deleteKeyStmt = db.prepare("DELETE FROM api_keys WHERE key = ?");
    this.workspaceStmt = db.prepare("SELECT * FROM workspaces WHERE id = ?");
    this.userStmt = db.prepare("SELECT * FROM users WHERE id = ?");
    this.userByKeyStmt = db.prepare("SELECT u.* FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key = ?");
    this.workspacesStmt = db.prepare("SELECT * FROM workspaces ORDER BY seq");
    this.usersOfWorkspaceStmt = db.prepare("SELECT * FROM users WHERE workspace_id = ? ORDER BY seq");
    this.keysOfUserStmt = db.prepare("SELECT key FROM api_keys WHERE user_id = ? ORDER BY created_at, key");
    this.firstUserStmt = db.prepare("SELECT * FROM users ORDER BY seq LIMIT 1");
    this.setWorkspaceLimitStmt = db.prepare("UPDATE workspaces SET vcpu_limit = ?, vcpu_limit_updated_at = ? WHERE id = ?");
  }

  insertWorkspace(row: NewWorkspace): void {
    this.insertWorkspaceStmt.run(row);
  }

  insertUser(row: NewUser): void {
    this.insertUserStmt.run(row);
  }

  /** Inserts a user and its first API key in one transaction: a key that cannot be stored leaves no user behind. */
  insertUserWithKey(row: NewUser, key: string): void {
    this.db.transaction(() => {
      this.insertUser(row);
      this.insertApiKey(key, row.id, row.created_at);
    })();
  }

  insertApiKey(key: string, userId: string, createdAt: number): void {
    this.insertKeyStmt.run(key, userId, createdAt);
  }

  deleteApiKey(key: string): boolean {
    return this.deleteKeyStmt.run(key).changes > 0;
  }

  workspace(id: string): WorkspaceRow | undefined {
    return this.workspaceStmt.get(id) as WorkspaceRow | undefined;
  }

  user(id: string): UserRow | undefined {
    return this.userStmt.get(id) as UserRow | undefined;
  }

  /** A user and its workspace; from memory while no identity row has changed since they were read. */
  member(userId: string): Member | undefined {
    return this.members.get(userId, this.readMember);
  }

  /** The user an API key belongs to, with its workspace; from memory like `member`. */
  memberByApiKey(key: string): Member | undefined {
    return this.keyHolders.get(key, this.readKeyHolder);
  }

  private memberOf(user: UserRow | undefined): Member | undefined {
    const workspace = user && this.workspace(user.workspace_id);
    if (!user || !workspace) return undefined;
    return Object.freeze({ user: Object.freeze(user), workspace: Object.freeze(workspace) });
  }

  userByApiKey(key: string): UserRow | undefined {
    return this.userByKeyStmt.get(key) as UserRow | undefined;
  }

  workspaces(): WorkspaceRow[] {
    return this.workspacesStmt.all() as WorkspaceRow[];
  }

  usersOfWorkspace(workspaceId: string): UserRow[] {
    return this.usersOfWorkspaceStmt.all(workspaceId) as UserRow[];
  }

  apiKeysOfUser(userId: string): string[] {
    return (this.keysOfUserStmt.all(userId) as { key: string }[]).map((r) => r.key);
  }

  firstUser(): UserRow | undefined {
    return this.firstUserStmt.get() as UserRow | undefined;
  }

  setWorkspaceLimit(workspaceId: string, vcpus: number | null, at: number): void {
    this.setWorkspaceLimitStmt.run(vcpus, vcpus === null ? null : at, workspaceId);
  }
}
