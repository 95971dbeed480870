// Reset through the admin API: everything (keeping the default user and its key, so clients keep working) or
// one workspace (keeping the others running), with jobs in flight, stored objects, limits and policies.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHtcClient, type HtcClient, requireMember, unwrap } from "@htcemu/client";
import type { AdminClient } from "@htcemu/client/admin";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminOf, byId, finished, jobsOf, newTask, submit, waitForJobs } from "./controls-helpers.js";
import { bearerFor, http, secondWorkspace, startTestEmulator } from "./helpers.js";

let emulator: SpawnedEmulator;
let admin: AdminClient;
let client: HtcClient;
let dataDir: string;

/** Jobs run an hour of the clock: they are RUNNING when the resets happen. */
const profile = { seed: 2, duration: { distribution: "fixed", minMs: 3_600_000 }, startDelayMs: [10, 20], logLines: 2 };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "htc-reset-"));
  emulator = await startTestEmulator(["--executor", "simulated", "--simulation", JSON.stringify(profile), "--data-dir", dataDir]);
  admin = adminOf(emulator);
  client = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey, retry: false });
});

afterAll(async () => {
  await emulator?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function objectFiles(): number {
  const root = join(dataDir, "storage", "objects");
  return readdirSync(root).reduce((n, dir) => n + readdirSync(join(root, dir)).length, 0);
}

async function putObject(c: HtcClient, ids: { projectId: string; taskId: string }, name: string) {
  const presigned = await unwrap(
    c.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
      params: { path: ids, query: { filePath: name, method: "PUT" } },
    }),
  );
  const url = requireMember(presigned, "url");
  expect((await fetch(url, { method: "PUT", body: `contents of ${name}` })).status).toBe(200);
}

async function projectNames(c: HtcClient): Promise<string[]> {
  return ((await unwrap(c.api.GET("/htc/projects"))).items ?? []).map((p) => p.projectName);
}

describe("reset", () => {
  it("of one workspace removes its projects, jobs, objects, limits and policies, and leaves the others running", async () => {
    const workspace = await admin.createWorkspace({ name: "team-b", vCPUs: 8 });
    const user = await admin.createUser(workspace.id, { email: "b@example.com", fullName: "B", workspaceAdmin: true });
    const other = { workspaceId: workspace.id, apiKey: user.apiKeys[0]! };
    const otherClient = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: other.apiKey, retry: false });
    const mine = await newTask(client, "mine");
    const theirs = await newTask(otherClient, "theirs");
    await submit(client, mine, 2);
    await submit(otherClient, theirs, 2);
    await putObject(otherClient, theirs, "b.txt");
    await putObject(client, mine, "a.txt");
    const policy = { params: { path: { workspaceId: other.workspaceId } } };
    await unwrap(
      otherClient.api.PUT("/htc/workspaces/{workspaceId}/task-retention-policy", {
        ...policy,
        body: { archiveAfter: 100, deleteAfter: 100 },
      }),
    );
    await waitForJobs(client, mine, (jobs) => jobs.every((j) => j.status === "RUNNING"));
    await waitForJobs(otherClient, theirs, (jobs) => jobs.every((j) => j.status === "RUNNING"));
    expect(objectFiles()).toBe(2);

    const removed = await admin.reset(other.workspaceId);
    expect(removed).toEqual({ workspaces: 0, users: 0, projects: 1, tasks: 1, jobs: 2, objects: 1 });
    expect(objectFiles()).toBe(1);
    // Their user and key still work, on an empty workspace without a limit.
    expect(await projectNames(otherClient)).toEqual([]);
    expect((await admin.api.GET("/workspaces")).data!.find((w) => w.id === other.workspaceId)).toMatchObject({ vCPUs: null });
    expect((await otherClient.api.GET("/htc/workspaces/{workspaceId}/task-retention-policy", policy)).response.status).toBe(404);
    // Mine are untouched and still run: an hour later they succeed.
    expect(await projectNames(client)).toContain("mine");
    expect((await jobsOf(client, mine)).map((j) => j.status)).toEqual(["RUNNING", "RUNNING"]);
    expect((await admin.scheduler()).executing).toBe(2);
    await admin.advanceClock({ hours: 1 });
    expect((await waitForJobs(client, mine, finished)).map((j) => j.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    // The workspace is usable again at once.
    const again = await newTask(otherClient, "theirs-again");
    await submit(otherClient, again, 1);
    await waitForJobs(otherClient, again, (jobs) => jobs[0]?.status === "RUNNING");
  });

  it("of everything keeps the default user, its key and its tokens, and removes the rest", async () => {
    const other = await secondWorkspace(emulator, "team-c");
    const ids = await newTask(client, "before-reset");
    await submit(client, ids, 3);
    await putObject(client, ids, "x.txt");
    await waitForJobs(client, ids, (jobs) => jobs.every((j) => j.status === "RUNNING"));
    await admin.addFault({ id: "kept", match: { operations: ["getTasks"] }, api: { latencyMs: 1 } });
    const token = await bearerFor(emulator, emulator.apiKey);

    const removed = await admin.reset();
    expect(removed.workspaces).toBe(2); // team-b (from the test before) and team-c
    expect(removed.users).toBe(2);
    expect(removed.jobs).toBeGreaterThanOrEqual(3);
    expect(removed.objects).toBeGreaterThanOrEqual(1);
    expect(objectFiles()).toBe(0);
    expect((await admin.scheduler()).executing).toBe(0);

    // The default user's client (and a bearer token issued before) keep working, on an empty state.
    expect(await projectNames(client)).toEqual([]);
    expect((await http(`${emulator.baseUrl}/htc/projects`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    // Other identities are gone.
    expect((await http(`${emulator.baseUrl}/auth/token`, { headers: { Authorization: `Token ${other.apiKey}` } })).status).toBe(401);
    expect((await admin.api.GET("/workspaces")).data).toHaveLength(1);
    // Controls are not state: the fault rule stays.
    expect((await admin.listFaults()).map((r) => r.id)).toEqual(["kept"]);
    await admin.clearFaults();

    // Work goes on as on a fresh emulator.
    const fresh = await newTask(client, "after-reset");
    await submit(client, fresh, 2);
    await waitForJobs(client, fresh, (jobs) => jobs.every((j) => j.status === "RUNNING"));
    await admin.advanceClock({ hours: 1 });
    const jobs = byId(await waitForJobs(client, fresh, finished));
    expect([...jobs.values()].map((j) => j.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
  });

  it("of an unknown workspace answers 404", async () => {
    await expect(admin.reset("00-0000000")).rejects.toMatchObject({ status: 404 });
  });
});
