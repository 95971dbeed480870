// Snapshots: export the whole state to a file and import it back: into the same emulator after a reset, into a
// new emulator started with --import (identities, signing key and clock included), and through a data dir and a
// restart (the clock's advance and speed kept); jobs in flight at export time are run again by the importing
// emulator. The file is a standard tar.gz; malformed files are refused.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { collect, createHtcClient, type HtcClient, paginate, requireMember, unwrap } from "@htcemu/client";
import type { AdminClient } from "@htcemu/client/admin";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminOf, finished, jobOf, newTask, submit, waitForJobs } from "./controls-helpers.js";
import { bearerFor, http, secondWorkspace, startTestEmulator } from "./helpers.js";

const profile = { seed: 4, duration: { distribution: "fixed", minMs: 100 }, startDelayMs: [10, 20], logLines: 3 };
const args = ["--executor", "simulated", "--simulation", JSON.stringify(profile)];

let emulator: SpawnedEmulator;
let admin: AdminClient;
let client: HtcClient;
let dir: string;
let file: string;
let snapshot: Uint8Array;
let original: Awaited<ReturnType<typeof capture>>;
/** A job stepped to RUNNING (and so in flight) when the snapshot was taken. */
let inFlight: { ids: { projectId: string; taskId: string }; jobId: string };
let otherKey: string;
let token: string;
let exportedAt: number;

/** Everything a client can read: projects, tasks, jobs (FULL), events, logs, and the stored object. */
async function capture(c: HtcClient, skip?: string) {
  const projects = await collect(paginate(c, "/htc/projects", {}));
  const out = [];
  for (const project of projects) {
    const projectId = requireMember(project, "projectId");
    const tasks = await collect(paginate(c, "/htc/projects/{projectId}/tasks", { params: { path: { projectId } } }));
    for (const task of tasks) {
      const ids = { projectId, taskId: requireMember(task, "taskId") };
      const jobs = (
        await collect(paginate(c, "/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path: ids, query: { viewType: "FULL" } } }))
      ).filter((j) => j.jobUUID !== skip);
      const details = [];
      for (const job of jobs) {
        const path = { ...ids, jobId: requireMember(job, "jobUUID") };
        details.push({
          job,
          events: await collect(paginate(c, "/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events", { params: { path } })),
          logs: (await unwrap(c.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", { params: { path } }))).items,
        });
      }
      const presigned = await unwrap(
        c.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
          params: { path: ids, query: { filePath: "data.bin", method: "GET" } },
        }),
      );
      const object = await fetch(requireMember(presigned, "url"));
      const digest =
        object.status === 200
          ? createHash("sha256")
              .update(Buffer.from(await object.arrayBuffer()))
              .digest("hex")
          : object.status;
      // Where the project's registry listens belongs to the running emulator, not to its state.
      const registry = project.containerRegistry?.replace(/^[^/]+\//, "<registry>/");
      out.push({ project: { ...project, containerRegistry: registry }, task, details, object: digest });
    }
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "htc-snapshot-"));
  file = join(dir, "state.snapshot");
  emulator = await startTestEmulator(args);
  admin = adminOf(emulator);
  client = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey, retry: false });

  // A month of history: finished jobs with logs and events, a stored object, a second workspace.
  const ids = await newTask(client, "snapshotted");
  await submit(client, ids, 3, { group: "g" });
  await waitForJobs(client, ids, finished);
  const bytes = Buffer.alloc(300_000, 7);
  const presigned = await unwrap(
    client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
      params: { path: ids, query: { filePath: "data.bin", method: "PUT" } },
    }),
  );
  expect((await fetch(requireMember(presigned, "url"), { method: "PUT", body: bytes })).status).toBe(200);
  otherKey = (await secondWorkspace(emulator, "snapshot-b")).apiKey;
  await admin.advanceClock({ days: 10 });
  const flying = await newTask(client, "in-flight");
  await admin.pause();
  const [jobId] = await submit(client, flying, 1);
  await admin.step({ ...flying, to: "RUNNING" });
  inFlight = { ids: flying, jobId: jobId! };
  token = await bearerFor(emulator, emulator.apiKey);

  original = await capture(client, inFlight.jobId);
  exportedAt = Date.parse((await admin.clock()).now);
  snapshot = await admin.exportSnapshot();
  writeFileSync(file, snapshot);
  await admin.resume();
});

afterAll(async () => {
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;

/** The clock of an emulator, with the real times the question was sent and answered. */
interface Reading {
  virtual: number;
  speed: number;
  sentAt: number;
  answeredAt: number;
}

async function reading(target: SpawnedEmulator): Promise<Reading> {
  const sentAt = Date.now();
  const clock = await adminOf(target).clock();
  return { virtual: Date.parse(clock.now), speed: clock.speed, sentAt, answeredAt: Date.now() };
}

describe("snapshots", () => {
  it("round-trip through reset and import in the same emulator", async () => {
    await admin.reset();
    expect(await capture(client)).toEqual([]);
    const summary = await admin.importSnapshot(snapshot);
    expect(summary).toMatchObject({ workspaces: 2, projects: 2, tasks: 2, jobs: 4, objects: 1 });
    expect(await capture(client, inFlight.jobId)).toEqual(original);
    // The job that was RUNNING is run again by this emulator's executor.
    await waitForJobs(client, inFlight.ids, finished);
    expect((await jobOf(client, inFlight.ids, inFlight.jobId)).status).toBe("SUCCEEDED");
  });

  it("start a new emulator with --import: same state, same identities, same signing key, clock caught up", async () => {
    const restored = await startTestEmulator([...args, "--import", file]);
    try {
      expect(restored.apiKey).toBe(emulator.apiKey);
      const restoredClient = createHtcClient({ baseUrl: restored.baseUrl, apiKey: restored.apiKey, retry: false });
      expect(await capture(restoredClient, inFlight.jobId)).toEqual(original);
      expect((await http(`${restored.baseUrl}/htc/projects`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
      expect((await http(`${restored.baseUrl}/auth/token`, { headers: { Authorization: `Token ${otherKey}` } })).status).toBe(200);
      expect(Date.parse((await adminOf(restored).clock()).now)).toBeGreaterThanOrEqual(exportedAt);
      await waitForJobs(restoredClient, inFlight.ids, finished);
    } finally {
      await restored.stop();
    }
  });

  it("survive a restart of an emulator that imported them into its data dir, clock included", async () => {
    const dataDir = join(dir, "data");
    const first = await startTestEmulator([...args, "--data-dir", dataDir, "--import", file]);
    let firstState: unknown;
    let stoppedAt: Reading;
    try {
      firstState = await capture(createHtcClient({ baseUrl: first.baseUrl, apiKey: first.apiKey, retry: false }), inFlight.jobId);
      expect(firstState).toEqual(original);
      // The snapshot's clock came along (it was 10 days ahead), then moves on by a day and runs 3 times as fast.
      const firstAdmin = adminOf(first);
      expect(Date.parse((await firstAdmin.clock()).now)).toBeGreaterThanOrEqual(exportedAt);
      await firstAdmin.advanceClock({ days: 1 });
      await firstAdmin.setSpeed(3);
      stoppedAt = await reading(first);
      expect(stoppedAt.virtual).toBeGreaterThanOrEqual(exportedAt + DAY);
    } finally {
      await first.stop();
    }
    const second = await startTestEmulator([...args, "--data-dir", dataDir]);
    try {
      expect(second.apiKey).toBe(emulator.apiKey);
      // Continuous: the reading at stop plus the real time since, at the saved speed.
      const restarted = await reading(second);
      expect(restarted.speed).toBe(3);
      expect(restarted.virtual).toBeGreaterThanOrEqual(stoppedAt.virtual + (restarted.sentAt - stoppedAt.answeredAt) * 3 - 1);
      expect(restarted.virtual).toBeLessThanOrEqual(stoppedAt.virtual + (restarted.answeredAt - stoppedAt.sentAt) * 3 + 1);
      const secondClient = createHtcClient({ baseUrl: second.baseUrl, apiKey: second.apiKey, retry: false });
      expect(await capture(secondClient, inFlight.jobId)).toEqual(original);
      await waitForJobs(secondClient, inFlight.ids, finished);

      // A snapshot of it carries the clock's state too: an emulator started with --import continues from it.
      const exported = join(dir, "restarted.snapshot");
      const exportedClock = await reading(second);
      writeFileSync(exported, await adminOf(second).exportSnapshot());
      const third = await startTestEmulator([...args, "--import", exported]);
      try {
        const imported = await reading(third);
        expect(imported.speed).toBe(3);
        expect(imported.virtual).toBeGreaterThanOrEqual(exportedClock.virtual + (imported.sentAt - exportedClock.answeredAt) * 3 - 1);
      } finally {
        await third.stop();
      }
    } finally {
      await second.stop();
    }
  });

  it("are a tar.gz that tar lists: header, database and the stored object's file", () => {
    const entries = execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).trim().split("\n");
    expect(entries.slice(0, 2)).toEqual(["snapshot.json", "emulator.sqlite"]);
    expect(entries.slice(2)).toHaveLength(1);
    expect(entries[2]).toMatch(/^objects\/[\w-]+\/[\w.-]+$/);
    const header = JSON.parse(execFileSync("tar", ["-xzOf", file, "snapshot.json"], { encoding: "utf8" })) as {
      format: string;
      version: number;
    };
    expect(header).toMatchObject({ format: "htc-emulator-snapshot", version: 2 });
  });

  it("refuses what is not a complete snapshot", async () => {
    const importing = (body: Uint8Array) => admin.importSnapshot(body).catch((e) => e);
    for (const body of [new TextEncoder().encode("hello"), gzipSync("not a snapshot"), snapshot.subarray(0, snapshot.length - 100)]) {
      const error = await importing(body);
      expect(error).toMatchObject({ status: 400, errorType: "INVALID_SNAPSHOT" });
    }
    // Nothing was replaced.
    expect(await capture(client, inFlight.jobId)).toEqual(original);
    const started = await startTestEmulator([...args, "--import", join(dir, "missing.snapshot")]).catch((e: Error) => e);
    expect(started).toBeInstanceOf(Error);
  });
});
