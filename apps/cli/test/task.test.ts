// `htc task …`.
import { requireMember, submitJobs, waitForGroup } from "@htcemu/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureContext, startTestEmulator, type TestEmulator, TestHome } from "./helpers.js";

let emulator: TestEmulator;
let home: TestHome;
let projectId: string;

beforeAll(async () => {
  emulator = await startTestEmulator();
  home = new TestHome();
  const project = (await emulator.client.api.POST("/htc/projects", { body: { projectName: "tasks", projectDescription: "" } })).data!;
  projectId = requireMember(project, "projectId");
  await configureContext(home, emulator, ["--project-id", projectId]);
});

afterAll(async () => {
  await emulator?.stop();
  home?.remove();
});

describe("htc task", () => {
  it("create --use, get <id>, get (lists), list", async () => {
    const created = await home.run(["task", "create", "--name", "sweep", "--use", "--json"]);
    expect(created.code).toBe(0);
    const task = created.json();
    expect(task).toMatchObject({ taskName: "sweep", projectId, lifecycleStatus: "ACTIVE" });
    expect((await home.run(["config", "get", "emulator", "--json"])).json()).toMatchObject({ projectId, taskId: task.taskId });

    expect((await home.run(["task", "get", task.taskId, "--json"])).json()).toEqual(task);
    const human = await home.run(["task", "get", task.taskId]);
    expect(human.stdout).toMatch(/^Status:\s+ACTIVE$/m);

    await home.run(["task", "create", "--name", "other"]);
    const list = await home.run(["task", "list", "--json"]);
    expect(
      list
        .json()
        .map((t: { taskName: string }) => t.taskName)
        .sort(),
    ).toEqual(["other", "sweep"]);
    // Without an id, get lists (as the official CLI), -l bounds the list.
    expect((await home.run(["task", "get", "--json"])).json()).toEqual(list.json());
    expect((await home.run(["task", "get", "-l", "1", "--json"])).json()).toEqual(list.json().slice(0, 1));
    const table = await home.run(["task", "ls"]);
    expect(table.stdout).toMatch(new RegExp(`^\\*\\s+${task.taskId}\\s+sweep\\s+ACTIVE`, "m"));
  });

  it("stats of the task and of its groups, and the list of groups", async () => {
    const taskId = (await home.run(["task", "create", "--name", "stats", "--json"])).json().taskId as string;
    const ids = { projectId, taskId };
    await submitJobs(emulator.client, { ...ids, group: "a", count: 3, template: { htcJobDefinition: { imageName: "app:1" } } });
    await submitJobs(emulator.client, { ...ids, group: "b", count: 2, template: { htcJobDefinition: { imageName: "app:1" } } });
    await waitForGroup(emulator.client, { ...ids, intervalMs: 50, timeoutMs: 20_000 });

    const stats = await home.run(["task", "stats", taskId, "--json"]);
    expect(stats.code).toBe(0);
    expect(stats.json()).toMatchObject({ group: null, jobStatuses: { SUCCEEDED: 5, FAILED: 0, RUNNING: 0 } });
    const table = await home.run(["task", "stats", taskId]);
    expect(table.stdout).toMatch(/^SUCCEEDED\s+5$/m);
    expect(table.stdout).toMatch(/^TOTAL\s+5$/m);

    const groups = await home.run(["task", "stats", taskId, "--by-group", "--json"]);
    expect(
      groups
        .json()
        .map((g: { group: string; jobStatuses: { SUCCEEDED: number } }) => [g.group, g.jobStatuses.SUCCEEDED])
        .sort(),
    ).toEqual([
      ["a", 3],
      ["b", 2],
    ]);
    const one = await home.run(["task", "stats", taskId, "--group", "b", "--json"]);
    expect(one.json()).toEqual([expect.objectContaining({ group: "b" })]);
    const groupTable = await home.run(["task", "stats", taskId, "--by-group"]);
    expect(groupTable.stdout).toMatch(/^GROUP\s+TO_RESCALE\s+TO_PROVIDER\s+RUNNABLE\s+STARTING\s+RUNNING\s+SUCCEEDED\s+FAILED\s+TOTAL$/m);
    expect(groupTable.stdout).toMatch(/^a\s+0\s+0\s+0\s+0\s+0\s+3\s+0\s+3$/m);

    const names = await home.run(["task", "groups", taskId, "--json"]);
    expect(names.json().sort()).toEqual(["a", "b"]);
  });

  it("archive, unarchive, delete", async () => {
    const taskId = (await home.run(["task", "create", "--name", "lifecycle", "--json"])).json().taskId as string;
    const archived = await home.run(["task", "archive", taskId, "--json"]);
    expect(archived.code).toBe(0);
    expect(archived.json()).toMatchObject({ lifecycleStatus: "ARCHIVED" });
    expect((await home.run(["task", "list", "--status", "archived", "--json"])).json().map((t: { taskId: string }) => t.taskId)).toContain(
      taskId,
    );

    const active = await home.run(["task", "unarchive", taskId]);
    expect(active.code).toBe(0);
    expect(active.stdout).toContain("is ACTIVE");

    const deleted = await home.run(["task", "delete", taskId, "--json"]);
    expect(deleted.code).toBe(0);
    expect(deleted.json()).toMatchObject({ taskId, lifecycleStatus: "DELETED" });
    // A deleted task cannot be brought back: the API's error, exit 1.
    const again = await home.run(["task", "unarchive", taskId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^htc: /m);
  });

  it("a missing task id is a usage error (exit 2)", async () => {
    const bare = new TestHome();
    try {
      await configureContext(bare, emulator, ["--project-id", projectId]);
      const result = await bare.run(["task", "stats"]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("no task id");
      // HTC_TASK_ID supplies it.
      const taskId = (await home.run(["task", "create", "--name", "env", "--json"])).json().taskId as string;
      expect((await bare.run(["task", "stats", "--json"], { env: { HTC_TASK_ID: taskId } })).code).toBe(0);
    } finally {
      bare.remove();
    }
  });
});
