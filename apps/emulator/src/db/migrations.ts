// The schema, as an append-only list of migrations: entry N brings a database from user_version N-1 to N.
// Never edit a released entry; add a new one.
//
// Every table keeps an integer `seq` in insertion order: list endpoints page over it with keyset cursors, so a
// page boundary stays put when rows are inserted meanwhile.
export const migrations: string[] = [
  /* 1: identity, projects, tasks, limits, retention */ `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    private_jwk TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE workspaces (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    organization_code TEXT,
    vcpu_limit INTEGER,
    vcpu_limit_updated_at INTEGER,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    full_name TEXT NOT NULL,
    is_workspace_admin INTEGER NOT NULL DEFAULT 0,
    is_organization_admin INTEGER NOT NULL DEFAULT 0,
    is_rescale_admin INTEGER NOT NULL DEFAULT 0,
    is_superuser INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX users_workspace ON users(workspace_id);

  CREATE TABLE api_keys (
    key TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX api_keys_user ON api_keys(user_id);

  CREATE TABLE projects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_by TEXT NOT NULL,
    regions TEXT NOT NULL,
    region_settings TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX projects_workspace ON projects(workspace_id, seq);

  CREATE TABLE registry_repositories (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, name)
  );

  CREATE TABLE project_dimensions (
    project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    environments TEXT NOT NULL
  );

  CREATE TABLE project_limits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL,
    vcpus INTEGER NOT NULL,
    modifier_role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id, modifier_role)
  );

  CREATE TABLE retention_policies (
    scope TEXT NOT NULL CHECK (scope IN ('project', 'workspace')),
    owner_id TEXT NOT NULL,
    archive_after_hours INTEGER NOT NULL,
    delete_after_hours INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, owner_id)
  );

  CREATE TABLE tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_by TEXT NOT NULL,
    lifecycle_status TEXT NOT NULL DEFAULT 'ACTIVE',
    created_at INTEGER NOT NULL,
    last_active_at INTEGER NOT NULL,
    archived_at INTEGER,
    deleted_at INTEGER
  );
  CREATE INDEX tasks_project ON tasks(project_id, seq);
  CREATE INDEX tasks_lifecycle ON tasks(lifecycle_status, last_active_at);
  `,
];
