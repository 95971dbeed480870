// The repositories' in-memory rows (users with their workspaces, projects with their registry repositories) and
// the change counters that make them forget (db/table-changes.ts): every way a row can change through the
// connection is seen, a transaction's reads are never kept, and the counters' triggers stay out of the file.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Db, openDatabase } from "../../src/db/database.js";
import { backupDatabase } from "../../src/db/database-files.js";
import { createRepositories, type Repositories } from "../../src/db/repositories/index.js";

let db: Db;
let repos: Repositories;
const now = 1_700_000_000_000;

function workspace(id: string, vcpu_limit: number | null = null) {
  repos.identity.insertWorkspace({ id, name: id, organization_code: null, vcpu_limit, vcpu_limit_updated_at: null, created_at: now });
}

function user(id: string, workspace_id: string, key?: string) {
  const row = {
    id,
    workspace_id,
    email: `${id}@example.com`,
    full_name: id,
    is_workspace_admin: 0,
    is_organization_admin: 0,
    is_rescale_admin: 0,
    is_superuser: 0,
    created_at: now,
  };
  if (key) repos.identity.insertUserWithKey(row, key);
  else repos.identity.insertUser(row);
}

function project(id: string, workspace_id: string, created_by: string) {
  repos.projects.insert({
    id,
    workspace_id,
    name: id,
    description: "",
    created_by,
    regions: '["AWS_US_WEST_2"]',
    region_settings: "[]",
    created_at: now,
  });
}

beforeEach(() => {
  db = openDatabase({ inMemory: true });
  repos = createRepositories(db);
  workspace("w1");
  user("u1", "w1", "key-1");
  project("p1", "w1", "u1");
});

afterEach(() => {
  db.close();
});

describe("members (a user and its workspace)", () => {
  it("are served from memory as frozen rows until an identity row changes", () => {
    const first = repos.identity.member("u1")!;
    expect(first.workspace.vcpu_limit).toBeNull();
    expect(repos.identity.member("u1")).toBe(first);
    expect(Object.isFrozen(first.user) && Object.isFrozen(first.workspace)).toBe(true);
    repos.identity.setWorkspaceLimit("w1", 16, now);
    const after = repos.identity.member("u1")!;
    expect(after).not.toBe(first);
    expect(after.workspace.vcpu_limit).toBe(16);
  });

  it("forget users removed by a reset, keys revoked, and rows removed by a cascade", () => {
    workspace("w2");
    user("u2", "w2", "key-2");
    expect(repos.identity.member("u2")).toBeDefined();
    expect(repos.identity.memberByApiKey("key-2")?.user.id).toBe("u2");
    expect(repos.identity.deleteApiKey("key-2")).toBe(true);
    expect(repos.identity.memberByApiKey("key-2")).toBeUndefined();
    expect(repos.identity.member("u2")).toBeDefined();
    db.transaction(() => repos.state.resetAll({ userId: "u1", workspaceId: "w1", workspaceLimit: 4 }))();
    expect(repos.identity.member("u2")).toBeUndefined();
    expect(repos.identity.member("u1")?.workspace.vcpu_limit).toBe(4);
    // users go with their workspace (ON DELETE CASCADE): the cascade's deletes are counted too.
    workspace("w3");
    user("u3", "w3");
    expect(repos.identity.member("u3")).toBeDefined();
    db.transaction(() => repos.state.resetAll({ userId: "u1", workspaceId: "w1", workspaceLimit: 4 }))();
    expect(repos.identity.member("u3")).toBeUndefined();
  });

  it("read inside a transaction are not kept: the transaction may roll back", () => {
    expect(repos.identity.member("u1")?.workspace.vcpu_limit).toBeNull();
    expect(() =>
      db.transaction(() => {
        repos.identity.setWorkspaceLimit("w1", 99, now);
        expect(repos.identity.member("u1")?.workspace.vcpu_limit).toBe(99);
        throw new Error("roll back");
      })(),
    ).toThrow("roll back");
    expect(repos.identity.member("u1")?.workspace.vcpu_limit).toBeNull();
  });

  it("are shared by every repository of the same connection, and not by another connection's", () => {
    const again = createRepositories(db);
    expect(again.identity.member("u1")?.workspace.vcpu_limit).toBeNull();
    repos.identity.setWorkspaceLimit("w1", 2, now);
    expect(again.identity.member("u1")?.workspace.vcpu_limit).toBe(2);
    const other = openDatabase({ inMemory: true });
    try {
      const otherRepos = createRepositories(other);
      expect(otherRepos.identity.member("u1")).toBeUndefined();
    } finally {
      other.close();
    }
  });
});

describe("projects", () => {
  it("are forgotten when a project or its registry repositories change", () => {
    const first = repos.projects.get("p1", "w1")!;
    expect(repos.projects.get("p1", "w1")).toBe(first);
    expect(repos.projects.get("p1", "another-workspace")).toBeUndefined();
    expect(repos.projects.repositories("p1")).toEqual([]);
    repos.registry.createRepository({ project_id: "p1", name: "tools", created_by: "u1", created_at: now });
    expect(repos.projects.repositories("p1")).toEqual(["tools"]);
    repos.projects.updateRegions("p1", ["AWS_US_WEST_2", "AWS_EU_WEST_1"], []);
    expect(repos.projects.get("p1", "w1")?.regions).toBe('["AWS_US_WEST_2","AWS_EU_WEST_1"]');
    db.transaction(() => repos.state.resetWorkspace("w1", null))();
    expect(repos.projects.get("p1", "w1")).toBeUndefined();
    expect(repos.projects.repositories("p1")).toEqual([]);
  });
});

describe("the change counters' triggers", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "htcemu-row-caches-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("live with the connection only: a backup has none, and opens and changes without this process", async () => {
    const file = join(dir, "backup.sqlite");
    await backupDatabase(db, file);
    const plain = new Database(file);
    try {
      expect(plain.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'htc_changed_%'").all()).toEqual([]);
      plain.prepare("UPDATE workspaces SET vcpu_limit = 3 WHERE id = 'w1'").run();
      plain.prepare("DELETE FROM users WHERE id = 'u1'").run();
    } finally {
      plain.close();
    }
  });
});
