// The virtual clock and everything it drives: bearer token expiry (a token that expires mid-run, which the
// client refreshes), storage credentials and presigned URLs, task retention (a policy deleting a task next
// month), the durations of simulated jobs (advanced, and sped up), and the timestamps of jobs and events.
import { S3Client, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { createHtcClient, type HtcClient, unwrap } from "@htcemu/client";
import type { AdminClient } from "@htcemu/client/admin";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminOf, eventsOf, finished, jobOf, newTask, submit, waitForJobs } from "./controls-helpers.js";
import { contractClient, http, startTestEmulator } from "./helpers.js";

let emulator: SpawnedEmulator;
let admin: AdminClient;
let client: HtcClient;

const HOUR = 3_600_000;
/** Every simulated job runs one hour of the emulator's clock. */
const profile = { seed: 1, duration: { distribution: "fixed", minMs: HOUR }, startDelayMs: [10, 20], logLines: 2 };

beforeAll(async () => {
  emulator = await startTestEmulator(["--executor", "simulated", "--simulation", JSON.stringify(profile)]);
  admin = adminOf(emulator);
  client = contractClient(emulator, { apiKey: emulator.apiKey });
});

afterAll(async () => {
  await emulator?.stop();
});

const clockNow = async () => Date.parse((await admin.clock()).now);

describe("the clock", () => {
  it("is read, advanced (forward only) and sped up through the admin API", async () => {
    const before = await clockNow();
    const after = Date.parse((await admin.advanceClock({ minutes: 5 })).now);
    expect(after - before).toBeGreaterThanOrEqual(300_000);
    const refused = await http(`${emulator.rootUrl}/_emulator/v1/clock`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advanceSeconds: -1 }),
    });
    expect(refused.status).toBe(400);
    expect(await admin.setSpeed(2)).toMatchObject({ speed: 2 });
    expect(await admin.setSpeed(1)).toMatchObject({ speed: 1 });
  });
});

describe("bearer tokens", () => {
  it("expire by the clock mid-run, and the client refreshes once and carries on", async () => {
    const attempts: string[] = [];
    const htc = createHtcClient({
      baseUrl: emulator.baseUrl,
      apiKey: emulator.apiKey,
      fetch: async (request) => {
        const response = await fetch(request);
        attempts.push(`${request.method} ${new URL(request.url).pathname.replace("/api/v1", "")} ${response.status}`);
        return response;
      },
    });
    await unwrap(htc.api.GET("/htc/projects"));
    const { tokenValue, expiresIn } = await unwrap(htc.api.GET("/auth/token"));
    expect(decodeJwt(tokenValue).exp! * 1000).toBeGreaterThanOrEqual((await clockNow()) + (expiresIn - 5) * 1000);

    // Six hours and a minute later (the client's own clock has not moved): the server refuses the token.
    await admin.advanceClock({ hours: 6, minutes: 1 });
    await unwrap(htc.api.GET("/htc/projects"));
    expect(attempts).toEqual([
      "GET /auth/token 200",
      "GET /htc/projects 200",
      "GET /auth/token 200",
      "GET /htc/projects 401",
      "GET /auth/token 200",
      "GET /htc/projects 200",
    ]);
    const expired = await http(`${emulator.baseUrl}/htc/projects`, { headers: { Authorization: `Bearer ${tokenValue}` } });
    expect(expired.status).toBe(401);
  });
});

describe("storage", () => {
  it("expires credentials and presigned URLs by the clock", async () => {
    const ids = await newTask(client, "storage-clock");
    const presigned = (filePath: string) =>
      unwrap(
        client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
          params: { path: ids, query: { filePath, method: "PUT" } },
        }),
      );
    const now = await presigned("now.txt");
    expect((await fetch(now.url, { method: "PUT", body: "hello" })).status).toBe(200);
    const later = await presigned("later.txt");
    expect(Date.parse(later.expiration)).toBeGreaterThan(await clockNow());

    const token = await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/token", { params: { path: ids } }));
    const s3 = new S3Client({
      endpoint: token.endpointUrl!,
      forcePathStyle: true,
      region: "us-east-1",
      credentials: {
        accessKeyId: token.credentials.AWS_ACCESS_KEY_ID!,
        secretAccessKey: token.credentials.AWS_SECRET_ACCESS_KEY!,
        sessionToken: token.credentials.AWS_SESSION_TOKEN!,
      },
    });
    const prefix = token.storagePath.replace(/^s3:\/\/[^/]+\//, "");
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: token.storageName, Prefix: prefix }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([`${prefix}now.txt`]);

    await admin.advanceClock({ hours: 1, minutes: 1 });
    const refused = await fetch(later.url, { method: "PUT", body: "too late" });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(await refused.text()).toMatch(/ExpiredToken|Request has expired/);
    await expect(s3.send(new ListObjectsV2Command({ Bucket: token.storageName, Prefix: prefix }))).rejects.toMatchObject({
      name: "ExpiredToken",
    });
    s3.destroy();
  });
});

describe("task retention", () => {
  it("archives a task next month and deletes it the day after, by the clock", async () => {
    const ids = await newTask(client, "retention");
    await unwrap(
      client.api.PUT("/htc/projects/{projectId}/task-retention-policy", {
        params: { path: { projectId: ids.projectId } },
        body: { archiveAfter: 30 * 24, deleteAfter: 24 },
      }),
    );
    const status = async () =>
      (await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids } }))).lifecycleStatus;
    await admin.advanceClock({ days: 29 });
    expect(await status()).toBe("ACTIVE");
    await admin.advanceClock({ days: 2 });
    expect(await status()).toBe("ARCHIVED");
    await admin.advanceClock({ days: 1, minutes: 1 });
    expect(await status()).toBe("DELETED");
  });
});

describe("simulated jobs and their timestamps", () => {
  it("run for their duration by the clock, and their events carry the clock's times", async () => {
    const ids = await newTask(client, "durations");
    // A month ahead: every timestamp of this job is in the clock's future, not the host's.
    await admin.advanceClock({ days: 30 });
    const submittedAfter = await clockNow();
    expect(submittedAfter - Date.now()).toBeGreaterThan(29 * 24 * HOUR);
    const [jobId] = await submit(client, ids, 1);
    await waitForJobs(client, ids, (jobs) => jobs[0]?.status === "RUNNING");
    await new Promise((r) => setTimeout(r, 200));
    expect((await jobOf(client, ids, jobId!)).status).toBe("RUNNING");

    await admin.advanceClock({ hours: 1 });
    const [job] = await waitForJobs(client, ids, finished);
    expect(job!.status).toBe("SUCCEEDED");
    const started = Date.parse(job!.startedAt!);
    expect(Date.parse(job!.createdAt)).toBeGreaterThanOrEqual(submittedAfter);
    expect(Date.parse(job!.completedAt!) - started).toBe(HOUR);
    const events = await eventsOf(client, ids, jobId!);
    expect(events.map((e) => e.status)).toEqual([
      "SUBMITTED_TO_RESCALE",
      "SUBMITTED_TO_PROVIDER",
      "RUNNABLE",
      "STARTING",
      "RUNNING",
      "SUCCEEDED",
    ]);
    const times = events.map((e) => Date.parse(e.dateTime!));
    expect(times[0]).toBeGreaterThanOrEqual(submittedAfter);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const logs = await unwrap(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", { params: { path: { ...ids, jobId: jobId! } } }),
    );
    for (const line of logs.items ?? []) expect(Date.parse(line.timestamp!)).toBeGreaterThanOrEqual(started);
  });

  it("finish sooner when the clock runs faster", async () => {
    const ids = await newTask(client, "speed");
    await admin.setSpeed(7200); // an hour of the clock in half a second
    try {
      const started = Date.now();
      await submit(client, ids, 3);
      const jobs = await waitForJobs(client, ids, finished, 60_000);
      expect(jobs.every((j) => j.status === "SUCCEEDED")).toBe(true);
      expect(Date.now() - started).toBeLessThan(60_000); // hours of the clock, in far less than a minute
      for (const job of jobs) expect(Date.parse(job.completedAt!) - Date.parse(job.startedAt!)).toBe(HOUR);
    } finally {
      await admin.setSpeed(1);
    }
  });
});
