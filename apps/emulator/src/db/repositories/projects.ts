// Persistence of projects, their dimensions, limits and retention policies. Projects and their registry
// repositories are read on nearly every request and rarely written: they are served from memory while no row of
// either table has changed (db/table-changes.ts).
import type { Db } from "../database.js";
import { changeCounter, RowCache } from "../table-changes.js";

export interface ProjectRow {
  seq: number;
  id: string;
  workspace_id: string;
  name: string;
  description: string;
  created_by: string;
  /** JSON array of region names. */
  regions: string;
  /** JSON array of `HTCRegionSettings`. */
  region_settings: string;
  created_at: number;
}

export interface LimitRow {
  id: number;
  project_id: string;
  workspace_id: string;
  vcpus: number;
  modifier_role: string;
  created_by: string;
  updated_by: string;
  created_at: number;
  updated_at: number;
}

export interface RetentionRow {
  scope: "project" | "workspace";
  owner_id: string;
  archive_after_hours: number;
  delete_after_hours: number;
  created_at: number;
}

export class ProjectRepository {
  private readonly stmts;
  private readonly rows: RowCache<string, Readonly<ProjectRow>>;
  private readonly repositoryNames: RowCache<string, readonly string[]>;

  constructor(db: Db) {
    const changes = changeCounter(db, "projects", ["projects", "registry_repositories"]);
    this.rows = new RowCache(db, changes);
    this.repositoryNames = new RowCache(db, changes);
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO projects (id, workspace_id, name, description, created_by, regions, region_settings, created_at)
         VALUES (@id, @workspace_id, @name, @description, @created_by, @regions, @region_settings, @created_at)`,
      ),
      get: db.prepare("SELECT * FROM projects WHERE id = ?"),
      page: db.prepare("SELECT * FROM projects WHERE workspace_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
      pageMine: db.prepare("SELECT * FROM projects WHERE workspace_id = ? AND created_by = ? AND seq > ? ORDER BY seq LIMIT ?"),
      updateRegions: db.prepare("UPDATE projects SET regions = ?, region_settings = ? WHERE id = ?"),
      repositories: db.prepare("SELECT name FROM registry_repositories WHERE project_id = ? ORDER BY created_at, name"),
      dimensions: db.prepare("SELECT environments FROM project_dimensions WHERE project_id = ?"),
      setDimensions: db.prepare(
        `INSERT INTO project_dimensions (project_id, environments) VALUES (?, ?)
         ON CONFLICT (project_id) DO UPDATE SET environments = excluded.environments`,
      ),
      clearDimensions: db.prepare("DELETE FROM project_dimensions WHERE project_id = ?"),
      limits: db.prepare("SELECT * FROM project_limits WHERE project_id = ? ORDER BY id"),
      limit: db.prepare("SELECT * FROM project_limits WHERE project_id = ? AND id = ?"),
      limitByRole: db.prepare("SELECT * FROM project_limits WHERE project_id = ? AND modifier_role = ?"),
      insertLimit: db.prepare(
        `INSERT INTO project_limits (project_id, workspace_id, vcpus, modifier_role, created_by, updated_by, created_at, updated_at)
         VALUES (@project_id, @workspace_id, @vcpus, @modifier_role, @created_by, @updated_by, @created_at, @updated_at)`,
      ),
      updateLimit: db.prepare("UPDATE project_limits SET vcpus = ?, updated_by = ?, updated_at = ? WHERE id = ?"),
      deleteLimit: db.prepare("DELETE FROM project_limits WHERE project_id = ? AND id = ?"),
      deleteLimits: db.prepare("DELETE FROM project_limits WHERE project_id = ?"),
      retention: db.prepare("SELECT * FROM retention_policies WHERE scope = ? AND owner_id = ?"),
      putRetention: db.prepare(
        `INSERT INTO retention_policies (scope, owner_id, archive_after_hours, delete_after_hours, created_at)
         VALUES (@scope, @owner_id, @archive_after_hours, @delete_after_hours, @created_at)
         ON CONFLICT (scope, owner_id) DO UPDATE SET archive_after_hours = excluded.archive_after_hours,
           delete_after_hours = excluded.delete_after_hours, created_at = excluded.created_at`,
      ),
      deleteRetention: db.prepare("DELETE FROM retention_policies WHERE scope = ? AND owner_id = ?"),
      retentionPolicies: db.prepare("SELECT * FROM retention_policies"),
      all: db.prepare("SELECT id, workspace_id FROM projects ORDER BY seq"),
      ofWorkspace: db.prepare("SELECT id, workspace_id, name FROM projects WHERE workspace_id = ? ORDER BY seq"),
    };
  }

  insert(row: Omit<ProjectRow, "seq">): void {
    this.stmts.insert.run(row);
  }

  /** A project of `workspaceId`; projects of other workspaces are invisible. The row is shared: frozen. */
  get(id: string, workspaceId: string): Readonly<ProjectRow> | undefined {
    const row = this.rows.get(id, this.readRow);
    return row?.workspace_id === workspaceId ? row : undefined;
  }

  private readonly readRow = (id: string): Readonly<ProjectRow> | undefined => {
    const row = this.stmts.get.get(id) as ProjectRow | undefined;
    return row && Object.freeze(row);
  };

  /** Up to `limit` projects after `afterSeq`, oldest first. */
  page(workspaceId: string, afterSeq: number, limit: number, createdBy?: string): ProjectRow[] {
    return (
      createdBy === undefined
        ? this.stmts.page.all(workspaceId, afterSeq, limit)
        : this.stmts.pageMine.all(workspaceId, createdBy, afterSeq, limit)
    ) as ProjectRow[];
  }

  updateRegions(id: string, regions: string[], regionSettings: unknown[]): void {
    this.stmts.updateRegions.run(JSON.stringify(regions), JSON.stringify(regionSettings), id);
  }

  /** The names of the project's registry repositories, oldest first (shared: frozen). */
  repositories(projectId: string): readonly string[] {
    return this.repositoryNames.get(projectId, this.readRepositories)!;
  }

  private readonly readRepositories = (projectId: string): readonly string[] =>
    Object.freeze((this.stmts.repositories.all(projectId) as { name: string }[]).map((r) => r.name));

  dimensions(projectId: string): unknown[] {
    const row = this.stmts.dimensions.get(projectId) as { environments: string } | undefined;
    return row ? (JSON.parse(row.environments) as unknown[]) : [];
  }

  setDimensions(projectId: string, environments: unknown[]): void {
    if (environments.length === 0) this.stmts.clearDimensions.run(projectId);
    else this.stmts.setDimensions.run(projectId, JSON.stringify(environments));
  }

  limits(projectId: string): LimitRow[] {
    return this.stmts.limits.all(projectId) as LimitRow[];
  }

  limit(projectId: string, id: number): LimitRow | undefined {
    return this.stmts.limit.get(projectId, id) as LimitRow | undefined;
  }

  limitByRole(projectId: string, role: string): LimitRow | undefined {
    return this.stmts.limitByRole.get(projectId, role) as LimitRow | undefined;
  }

  insertLimit(row: Omit<LimitRow, "id">): number {
    return Number(this.stmts.insertLimit.run(row).lastInsertRowid);
  }

  updateLimit(id: number, vcpus: number, updatedBy: string, at: number): void {
    this.stmts.updateLimit.run(vcpus, updatedBy, at, id);
  }

  deleteLimit(projectId: string, id: number): boolean {
    return this.stmts.deleteLimit.run(projectId, id).changes > 0;
  }

  deleteLimits(projectId: string): void {
    this.stmts.deleteLimits.run(projectId);
  }

  retention(scope: RetentionRow["scope"], ownerId: string): RetentionRow | undefined {
    return this.stmts.retention.get(scope, ownerId) as RetentionRow | undefined;
  }

  putRetention(row: RetentionRow): void {
    this.stmts.putRetention.run(row);
  }

  deleteRetention(scope: RetentionRow["scope"], ownerId: string): void {
    this.stmts.deleteRetention.run(scope, ownerId);
  }

  retentionPolicies(): RetentionRow[] {
    return this.stmts.retentionPolicies.all() as RetentionRow[];
  }

  /** Every project, with its workspace, in creation order. */
  all(): Pick<ProjectRow, "id" | "workspace_id">[] {
    return this.stmts.all.all() as Pick<ProjectRow, "id" | "workspace_id">[];
  }

  /** The projects of a workspace, in creation order. */
  ofWorkspace(workspaceId: string): Pick<ProjectRow, "id" | "workspace_id" | "name">[] {
    return this.stmts.ofWorkspace.all(workspaceId) as Pick<ProjectRow, "id" | "workspace_id" | "name">[];
  }
}
