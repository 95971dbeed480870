// State control: pausing and resuming the scheduler, and moving jobs through their lifecycle step by step to
// observe intermediate statuses, with events and timestamps consistent with the path taken.
import type { HtcClient } from "@htcemu/client";
import type { AdminClient } from "@htcemu/client/admin";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { adminOf, byId, eventsOf, finished, jobOf, jobsOf, newTask, submit, waitForJobs } from "./controls-helpers.js";
import { contractClient, http, startTestEmulator } from "./helpers.js";

let emulator: SpawnedEmulator;
let admin: AdminClient;
let client: HtcClient;

const profile = { seed: 5, duration: { distribution: "fixed", minMs: 150 }, startDelayMs: [10, 20], logLines: 2 };

beforeAll(async () => {
  emulator = await startTestEmulator(["--executor", "simulated", "--simulation", JSON.stringify(profile)]);
  admin = adminOf(emulator);
  client = contractClient(emulator, { apiKey: emulator.apiKey });
});

afterAll(async () => {
  await emulator?.stop();
});

afterEach(async () => {
  await admin.resume();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("pause and resume", () => {
  it("holds every job where it is while paused, and lets them run on resume", async () => {
    const ids = await newTask(client, "pause");
    expect(await admin.pause()).toMatchObject({ paused: true });
    await submit(client, ids, 3);
    await sleep(400);
    expect((await jobsOf(client, ids)).map((j) => j.status)).toEqual(Array(3).fill("SUBMITTED_TO_RESCALE"));
    expect(await admin.resume()).toMatchObject({ paused: false });
    const jobs = await waitForJobs(client, ids, finished);
    expect(jobs.map((j) => j.status)).toEqual(Array(3).fill("SUCCEEDED"));
  });

  it("still records the ends of attempts that were already running", async () => {
    const ids = await newTask(client, "pause-running");
    await submit(client, ids, 2);
    await waitForJobs(client, ids, (jobs) => jobs.every((j) => j.status === "RUNNING" || j.status === "SUCCEEDED"));
    await admin.pause();
    const jobs = await waitForJobs(client, ids, finished);
    expect(jobs.map((j) => j.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
  });
});

describe("stepping", () => {
  it("is refused while the scheduler runs", async () => {
    const ids = await newTask(client, "step-refused");
    const response = await http(`${emulator.rootUrl}/_emulator/v1/jobs/step`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ids),
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ errorType: "SCHEDULER_NOT_PAUSED" });
  });

  it("moves one job a status at a time, each observable, with ordered events stamped by the clock", async () => {
    const ids = await newTask(client, "step");
    await admin.pause();
    const [first, second] = await submit(client, ids, 2);
    const path = ["SUBMITTED_TO_PROVIDER", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"];
    for (const expected of path) {
      await admin.advanceClock({ seconds: 10 });
      const { jobs } = await admin.step({ ...ids, jobIds: [first!] });
      expect(jobs).toEqual([expect.objectContaining({ jobId: first, status: expected, moved: true, attempt: 1 })]);
      await sleep(150); // nothing moves on its own meanwhile
      expect((await jobOf(client, ids, first!)).status).toBe(expected);
      expect((await jobOf(client, ids, second!)).status).toBe("SUBMITTED_TO_RESCALE");
    }
    const job = await jobOf(client, ids, first!);
    expect(job).toMatchObject({ status: "SUCCEEDED", statusReason: "Completed", container: { exitCode: 0 } });
    expect(job.instanceId).toMatch(/^step-/);
    const events = await eventsOf(client, ids, first!);
    expect(events.map((e) => e.status)).toEqual(["SUBMITTED_TO_RESCALE", ...path]);
    const times = events.map((e) => Date.parse(e.dateTime!));
    // Ten seconds of the clock between steps.
    for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(10_000);
    expect(Date.parse(job.completedAt!) - Date.parse(job.startedAt!)).toBeGreaterThanOrEqual(10_000);
    // A finished job does not move.
    const again = await admin.step({ ...ids, jobIds: [first!] });
    expect(again.jobs[0]).toMatchObject({ moved: false, status: "SUCCEEDED", reason: "the job has finished" });
  });

  it("moves a group to a target status, ends jobs with an exit code or a failure, and retries them", async () => {
    const ids = await newTask(client, "step-to");
    await admin.pause();
    const failing = await submit(client, ids, 2, { group: "fail" });
    const [retried] = await submit(client, ids, 1, { group: "retry", retries: 1 });
    const other = await submit(client, ids, 1, { group: "other" });

    const toRunning = await admin.step({ ...ids, group: "fail", to: "RUNNING" });
    expect(toRunning.jobs.map((j) => [j.jobId, j.from, j.status])).toEqual(failing.map((id) => [id, "SUBMITTED_TO_RESCALE", "RUNNING"]));
    const ended = await admin.step({ ...ids, jobIds: [failing[0]!], exitCode: 7 });
    expect(ended.jobs[0]).toMatchObject({ status: "FAILED" });
    await admin.step({ ...ids, jobIds: [failing[1]!], failure: "outOfMemory" });
    const jobs = byId(await jobsOf(client, ids));
    expect(jobs.get(failing[0]!)).toMatchObject({
      status: "FAILED",
      failureCode: "ErrorNonZeroContainerExitCode",
      container: { exitCode: 7 },
    });
    expect(jobs.get(failing[1]!)).toMatchObject({ status: "FAILED", failureCode: "ErrorNotEnoughMemory" });

    // A retryable failure goes back to RUNNABLE for the next attempt, which can be stepped again.
    const retry = await admin.step({ ...ids, group: "retry", to: "FAILED" });
    expect(retry.jobs[0]).toMatchObject({ jobId: retried, status: "RUNNABLE", attempt: 2, moved: true });
    const second = await admin.step({ ...ids, group: "retry", to: "SUCCEEDED" });
    expect(second.jobs[0]).toMatchObject({ status: "SUCCEEDED", attempt: 2 });
    expect((await eventsOf(client, ids, retried!)).map((e) => e.status)).toEqual([
      "SUBMITTED_TO_RESCALE",
      "SUBMITTED_TO_PROVIDER",
      "RUNNABLE",
      "STARTING",
      "RUNNING",
      "FAILED",
      "RUNNABLE",
      "STARTING",
      "RUNNING",
      "SUCCEEDED",
    ]);
    expect((await jobOf(client, ids, other[0]!)).status).toBe("SUBMITTED_TO_RESCALE");
    const past = await admin.step({ ...ids, group: "fail", to: "RUNNING" });
    expect(past.jobs.every((j) => !j.moved && j.reason === "it is past RUNNING")).toBe(true);
  });

  it("hands stepped jobs back to the scheduler and the executor on resume", async () => {
    const ids = await newTask(client, "step-resume");
    await admin.pause();
    const [provider, running, starting, queued] = await submit(client, ids, 4);
    await admin.step({ ...ids, jobIds: [provider!], to: "SUBMITTED_TO_PROVIDER" });
    await admin.step({ ...ids, jobIds: [running!], to: "RUNNING" });
    await admin.step({ ...ids, jobIds: [starting!], to: "STARTING" });
    expect(await admin.scheduler()).toMatchObject({ paused: true, stepped: 3 });
    await admin.resume();
    const jobs = byId(await waitForJobs(client, ids, finished));
    for (const id of [provider, running, starting, queued]) expect(jobs.get(id!)?.status).toBe("SUCCEEDED");
    expect((await admin.scheduler()).stepped).toBe(0);
  });

  it("lets a stepped job be cancelled", async () => {
    const ids = await newTask(client, "step-cancel");
    await admin.pause();
    const [jobId] = await submit(client, ids, 1);
    await admin.step({ ...ids, to: "STARTING" });
    await client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", { params: { path: ids, query: { jobId: [jobId!] } } });
    const [job] = await waitForJobs(client, ids, finished);
    expect(job).toMatchObject({ status: "FAILED", statusReason: "Cancelled by user" });
  });

  it("refuses unknown tasks and jobs", async () => {
    const ids = await newTask(client, "step-unknown");
    await admin.pause();
    await expect(admin.step({ ...ids, taskId: "nope" })).rejects.toMatchObject({ status: 404 });
    await expect(admin.step({ ...ids, jobIds: ["nope:0"] })).rejects.toMatchObject({
      status: 400,
      errorDescription: "jobIds[0]: is not a job of the task",
    });
    expect((await admin.step({ ...ids, group: "none" })).jobs).toEqual([]);
  });
});
