// The counters of GET /htc/metrics: jobs submitted and finished, and bearer tokens issued (by the key exchange,
// the OAuth2 endpoint, for jobs, and by a job's refresh token), counted per workspace with exact values.
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminOf, finished, newTask, submit, waitForJobs } from "./controls-helpers.js";
import { bearerFor, contractClient, http, secondWorkspace, startTestEmulator } from "./helpers.js";

const profile = { seed: 2, duration: { distribution: "fixed", minMs: 50 }, startDelayMs: [5, 10], logLines: 1 };

let emulator: SpawnedEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator(["--executor", "simulated", "--simulation", JSON.stringify(profile)]);
});

afterAll(async () => {
  await emulator?.stop();
});

async function metricsText(bearer: string): Promise<string[]> {
  const { status, body } = await http(`${emulator.baseUrl}/htc/metrics`, { headers: { Authorization: `Bearer ${bearer}` } });
  expect(status).toBe(200);
  return (body as string).split("\n");
}

describe("metrics counters", () => {
  it("count jobs submitted and finished and bearer tokens issued, per workspace", async () => {
    // A workspace of its own: the default one's client exchanges tokens on its own.
    const ws = await secondWorkspace(emulator, "metrics");
    const bearer = await bearerFor(emulator, ws.apiKey);

    // Nothing counted yet but the token just issued; declared series show 0.
    const before = await metricsText(bearer);
    expect(before).toContain("# TYPE htc_jobs_submitted_total counter");
    expect(before).toContain("# TYPE htc_jobs_finished_total counter");
    expect(before).toContain("# TYPE htc_tokens_issued_total counter");
    expect(before).toContain("htc_jobs_submitted_total 0");
    expect(before).toContain('htc_jobs_finished_total{status="SUCCEEDED"} 0');
    expect(before).toContain('htc_tokens_issued_total{kind="access"} 1');
    expect(before).toContain('htc_tokens_issued_total{kind="job"} 0');

    // One more access token from the OAuth2 endpoint, one refused exchange (not counted).
    const oauth = await http(`${emulator.baseUrl}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", client_secret: ws.apiKey }).toString(),
    });
    expect(oauth.status).toBe(200);
    expect((await http(`${emulator.baseUrl}/auth/token`, { headers: { Authorization: "Token not-a-key-at-all" } })).status).toBe(401);

    const client = contractClient(emulator, { bearerToken: bearer });
    const ids = await newTask(client, "metrics");
    const admin = adminOf(emulator);
    await admin.addFault({ id: "metrics-fail", match: { taskId: ids.taskId, group: "failing" }, job: { kind: "exitCode", exitCode: 3 } });
    try {
      await submit(client, ids, 3);
      await submit(client, ids, 2, { group: "failing" });
      await waitForJobs(client, ids, (jobs) => jobs.length === 5 && finished(jobs));
    } finally {
      await admin.removeFault("metrics-fail");
    }

    // Two jobs cancelled while queued end at once, without an executor report: they count as FAILED too.
    await admin.pause();
    try {
      await submit(client, ids, 2, { group: "cancelled" });
      const cancel = await client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", {
        params: { path: ids, query: { group: "cancelled" } },
      });
      expect(cancel.response.status).toBe(200);
    } finally {
      await admin.resume();
    }

    // A job's bearer and refresh tokens (admin API), then the refresh token exchanged for a job token.
    const jobTokens = await http(`${emulator.rootUrl}/_emulator/v1/job-tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId: ws.userId, ...ids }),
    });
    expect(jobTokens.status).toBe(201);
    const { refreshToken } = jobTokens.body as { refreshToken: string };
    const refreshed = await http(`${emulator.baseUrl}/auth/token`, { headers: { Authorization: `Refresh ${refreshToken}` } });
    expect(refreshed.status).toBe(200);

    const after = await metricsText(bearer);
    expect(after).toContain("htc_jobs_submitted_total 7");
    expect(after).toContain('htc_jobs_finished_total{status="SUCCEEDED"} 3');
    expect(after).toContain('htc_jobs_finished_total{status="FAILED"} 4');
    expect(after).toContain('htc_tokens_issued_total{kind="access"} 2');
    expect(after).toContain('htc_tokens_issued_total{kind="job"} 2');

    // The default workspace counts apart: none of the above is its.
    const own = await metricsText(await bearerFor(emulator, emulator.apiKey));
    expect(own).toContain("htc_jobs_submitted_total 0");
    expect(own).toContain('htc_tokens_issued_total{kind="job"} 0');
  });
});
