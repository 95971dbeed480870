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
  /* 2: jobs. Statuses are small integers (see jobs/status.ts); a batch's jobs have consecutive seqs starting at
     first_job, so a job id <parentJobId>:<index> maps to first_job + index without an index of its own. */ `
  CREATE TABLE job_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (task_seq, name)
  );

  -- Jobs per (group, status), kept by the trigger below and by submission: statistics never count rows.
  CREATE TABLE job_counts (
    group_id INTEGER NOT NULL,
    status INTEGER NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, status)
  ) WITHOUT ROWID;

  CREATE TABLE job_batches (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_job_id TEXT NOT NULL UNIQUE,
    task_seq INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    first_job INTEGER NOT NULL,
    batch_size INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    vcpus INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    max_retries INTEGER NOT NULL,
    request TEXT NOT NULL
  );
  CREATE INDEX job_batches_task ON job_batches(task_seq, seq);

  CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY,
    batch_seq INTEGER NOT NULL,
    task_seq INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    status INTEGER NOT NULL,
    region TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    cancelled INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    failure_code TEXT,
    exit_code INTEGER,
    container_reason TEXT,
    instance_id TEXT,
    submitted_at INTEGER NOT NULL,
    provider_at INTEGER,
    runnable_at INTEGER,
    starting_at INTEGER,
    running_at INTEGER,
    ended_at INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX jobs_task ON jobs(task_seq, seq);
  CREATE INDEX jobs_group ON jobs(group_id, seq);

  CREATE TRIGGER jobs_count_status AFTER UPDATE OF status ON jobs WHEN OLD.status <> NEW.status BEGIN
    UPDATE job_counts SET n = n - 1 WHERE group_id = OLD.group_id AND status = OLD.status;
    UPDATE job_counts SET n = n + 1 WHERE group_id = NEW.group_id AND status = NEW.status;
  END;

  -- Earlier attempts of retried jobs, so their events stay visible.
  CREATE TABLE job_attempts (
    job_seq INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    starting_at INTEGER,
    running_at INTEGER,
    ended_at INTEGER NOT NULL,
    reason TEXT,
    failure_code TEXT,
    exit_code INTEGER,
    container_reason TEXT,
    instance_id TEXT,
    PRIMARY KEY (job_seq, attempt)
  ) WITHOUT ROWID;

  -- Output lines; (job, at) is unique because each job's timestamps are made strictly increasing.
  CREATE TABLE job_logs (
    job_seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    stream INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (job_seq, at)
  ) WITHOUT ROWID;
  `,
  /* 3: storage (S3-compatible). Object bytes live in files under <storage dir>/objects/; a row here is what makes
     an object exist, so a file without a row (a crash between rename and commit) is garbage collected on start.
     `segments` lists the files of an object in order ([[file, size], …]): a completed multipart upload keeps its
     part files as they are. Credentials are not stored: they are derived from `storage_secret` (see
     storage/credentials.ts). */ `
  INSERT OR IGNORE INTO meta (key, value) VALUES ('storage_secret', lower(hex(randomblob(32))));

  CREATE TABLE storage_objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    segments TEXT NOT NULL,
    content_type TEXT,
    headers TEXT,
    last_modified INTEGER NOT NULL,
    UNIQUE (bucket, key)
  );

  CREATE TABLE storage_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    content_type TEXT,
    headers TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX storage_uploads_key ON storage_uploads(bucket, key);

  CREATE TABLE storage_parts (
    upload_id TEXT NOT NULL REFERENCES storage_uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    file TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  ) WITHOUT ROWID;
  `,
  /* 4: container registry (repositories are in registry_repositories since 1). Passwords for `docker login` are
     opaque random strings, kept as SHA-256 hashes with the project they open and their expiry; images are what
     the emulator learned from the registry (its notifications and its API), so a status survives restarts. */ `
  CREATE TABLE registry_credentials (
    token_hash TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX registry_credentials_expiry ON registry_credentials(expires_at);

  -- One row per tag: the manifest digest it points to, when the emulator first saw that digest under the tag, and
  -- when every blob of the image was verified present (NULL: not yet, the image is PENDING).
  CREATE TABLE registry_images (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT NOT NULL,
    pushed_at INTEGER NOT NULL,
    complete_at INTEGER,
    PRIMARY KEY (project_id, repository, tag)
  ) WITHOUT ROWID;
  `,
];
