// Multi-row changes that must happen entirely or not at all: a user with its first API key, and a retention
// sweep (its archives and deletions), whose storage is released only once the sweep committed.
import { requireMember, unwrap } from "@htcemu/client";
import { describe, expect, it, vi } from "vitest";
import { putPolicy } from "../src/domain/retention.js";
import { changeLifecycle, enforceRetention } from "../src/domain/tasks.js";
import { useEmulator } from "../src/testing/vitest.js";

const htc = useEmulator({ executor: "simulated" });
const HOUR = 3_600_000;

describe("IdentityService.createUser", () => {
  it("leaves no user behind when its API key cannot be stored", () => {
    const s = htc.emulator.internals.core;
    const workspaceId = htc.emulator.workspaceId;
    const users = () => s.repos.identity.usersOfWorkspace(workspaceId).map((u) => u.email);
    const before = users();
    // The default user's key is taken: the key's insert fails after the user's.
    expect(() => s.identity.createUser({ workspaceId, email: "taken-key@example.com", fullName: "Taken Key", apiKey: htc.apiKey })).toThrow(
      /UNIQUE/,
    );
    expect(users()).toEqual(before);

    const { user, apiKey } = s.identity.createUser({ workspaceId, email: "fresh@example.com", fullName: "Fresh" });
    expect(s.repos.identity.apiKeysOfUser(user.id)).toEqual([apiKey]);
    expect(users()).toEqual([...before, "fresh@example.com"]);
  });
});

describe("enforceRetention", () => {
  it("changes the rows of a sweep in one transaction and releases storage after it committed", async () => {
    const { core: s, jobs } = htc.emulator.internals;
    const project = await unwrap(htc.client.api.POST("/htc/projects", { body: { projectName: "retention", projectDescription: "" } }));
    const projectId = requireMember(project, "projectId");
    const newTask = async (name: string) => {
      const task = await unwrap(
        htc.client.api.POST("/htc/projects/{projectId}/tasks", {
          params: { path: { projectId } },
          body: { taskName: name, taskDescription: "" },
        }),
      );
      return { taskId: requireMember(task, "taskId") };
    };
    const old = await newTask("archived-long-ago");
    const idle = await newTask("idle");
    const row = (taskId: string) => s.repos.tasks.get(taskId, projectId)!;
    changeLifecycle(s, jobs, row(old.taskId), "ARCHIVED");

    const released: { taskId: string; status: string; inTransaction: boolean }[] = [];
    // A deleted task's storage is released through the storage service: watch when, and in what state.
    const deleteTaskStorage = s.storage.deleteTaskStorage.bind(s.storage);
    const release = vi.spyOn(s.storage, "deleteTaskStorage").mockImplementation((projectId, taskId) => {
      released.push({ taskId, status: row(taskId).lifecycle_status, inTransaction: s.db.inTransaction });
      deleteTaskStorage(projectId, taskId);
    });
    try {
      // From here on synchronous, so the emulator's own background sweep cannot interleave.
      s.clock.advance(3 * HOUR);
      putPolicy(s, "project", projectId, { archiveAfter: 1, deleteAfter: 2 });
      // The sweep archives `idle` first (archiving comes before deleting), then fails deleting `old`.
      s.db.exec(
        `CREATE TEMP TRIGGER refuse_delete BEFORE UPDATE OF lifecycle_status ON tasks
         WHEN NEW.lifecycle_status = 'DELETED' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
      );
      try {
        expect(() => enforceRetention(s, jobs)).toThrow(/injected failure/);
      } finally {
        s.db.exec("DROP TRIGGER temp.refuse_delete");
      }
      expect(row(idle.taskId).lifecycle_status).toBe("ACTIVE");
      expect(row(old.taskId).lifecycle_status).toBe("ARCHIVED");
      expect(released).toEqual([]);

      expect(enforceRetention(s, jobs)).toEqual({ archived: [idle.taskId], deleted: [old.taskId] });
      expect(row(idle.taskId).lifecycle_status).toBe("ARCHIVED");
      expect(released).toEqual([{ taskId: old.taskId, status: "DELETED", inTransaction: false }]);
    } finally {
      release.mockRestore();
    }
  });
});
