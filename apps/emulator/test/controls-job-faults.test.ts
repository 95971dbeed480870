// Job fault injection through the simulated executor: exit codes, timeouts, OOM kills, image pull failures,
// vanished containers, jobs stuck in a status with a statusReason (released by removing the rule or by the
// clock), faults that strike later by the clock, retries, determinism, the log and the metric.
import { createHtcClient, type HtcClient } from "@htcemu/client";
import type { AdminClient } from "@htcemu/client/admin";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { adminOf, byId, eventsOf, finished, jobOf, newTask, submit, waitForJobs } from "./controls-helpers.js";
import { startTestEmulator } from "./helpers.js";

let emulator: SpawnedEmulator;
let admin: AdminClient;
let client: HtcClient;

const profile = { seed: 3, duration: { distribution: "fixed", minMs: 200 }, startDelayMs: [10, 20], logLines: 2 };

beforeAll(async () => {
  emulator = await startTestEmulator(["--executor", "simulated", "--simulation", JSON.stringify(profile)]);
  admin = adminOf(emulator);
  client = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey, retry: false });
});

afterAll(async () => {
  await emulator?.stop();
});

afterEach(async () => {
  await admin.clearFaults();
});

describe("job faults", () => {
  it("injects every outcome kind, each with the failureCode and statusReason the runtime gives it", async () => {
    const ids = await newTask(client, "kinds");
    const only = (index: number) => ({ taskId: ids.taskId, jobIndexes: [index] });
    await admin.addFault({ id: "exit", match: only(0), job: { kind: "exitCode", exitCode: 3 } });
    await admin.addFault({ id: "timeout", match: only(1), job: { kind: "timeout" } });
    await admin.addFault({ id: "oom", match: only(2), job: { kind: "outOfMemory" } });
    await admin.addFault({ id: "pull", match: only(3), job: { kind: "imagePullFailure" } });
    await admin.addFault({ id: "vanish", match: only(4), job: { kind: "vanish" } });
    const jobIds = await submit(client, ids, 6, { definition: { execTimeoutSeconds: 120, maxMemory: 512 } });
    const jobs = byId(await waitForJobs(client, ids, finished));
    const [exit, timeout, oom, pull, vanish, fine] = jobIds.map((id) => jobs.get(id)!);
    expect(exit).toMatchObject({
      status: "FAILED",
      failureCode: "ErrorNonZeroContainerExitCode",
      statusReason: "Essential container in task exited with code 3",
      container: { exitCode: 3 },
    });
    expect(timeout).toMatchObject({
      status: "FAILED",
      failureCode: "ErrorTimeout",
      statusReason: "Job attempt duration exceeded timeout of 120 seconds",
    });
    expect(oom).toMatchObject({ status: "FAILED", failureCode: "ErrorNotEnoughMemory", container: { exitCode: 137 } });
    expect(oom!.statusReason).toContain("OutOfMemoryError");
    expect(pull).toMatchObject({ status: "FAILED", failureCode: "ErrorStartingContainer", startedAt: null });
    expect(pull!.statusReason).toMatch(/^CannotPullContainerError: .*htcemu\/shell:1/);
    expect(vanish).toMatchObject({
      status: "FAILED",
      failureCode: "ErrorInfrastructureFault",
      statusReason: "Container vanished: the container was removed while the job ran",
    });
    expect(fine).toMatchObject({ status: "SUCCEEDED", failureCode: null });
    // A job that could not pull its image never ran.
    expect((await eventsOf(client, ids, jobIds[3]!)).map((e) => e.status)).toEqual([
      "SUBMITTED_TO_RESCALE",
      "SUBMITTED_TO_PROVIDER",
      "RUNNABLE",
      "STARTING",
      "FAILED",
    ]);
    expect((await eventsOf(client, ids, jobIds[0]!)).map((e) => e.status)).toContain("RUNNING");

    const log = await admin.faultLog();
    const kinds = new Map(log.items.filter((e) => e.taskId === ids.taskId).map((e) => [e.jobId, e.kind]));
    expect(jobIds.map((id) => kinds.get(id))).toEqual([
      "job_exit_code",
      "job_timeout",
      "job_oom",
      "job_image_pull",
      "job_vanish",
      undefined,
    ]);
    expect(log.items.find((e) => e.jobId === jobIds[0])).toMatchObject({ ruleId: "exit", projectId: ids.projectId, attempt: 1 });
    const metrics = await client.fetch(new Request(`${emulator.baseUrl}/htc/metrics`));
    const text = await metrics.text();
    for (const [kind, rule] of [
      ["job_exit_code", "exit"],
      ["job_timeout", "timeout"],
      ["job_oom", "oom"],
      ["job_image_pull", "pull"],
      ["job_vanish", "vanish"],
    ]) {
      expect(text).toContain(`htc_emulator_faults_injected_total{kind="${kind}",rule="${rule}"} 1`);
    }
  });

  it("strikes afterSeconds of the emulator's clock after RUNNING, even in a long job", async () => {
    // Two-hour jobs (by the clock): the fault strikes ten minutes in.
    const long = await startTestEmulator([
      "--executor",
      "simulated",
      "--simulation",
      JSON.stringify({ ...profile, duration: { distribution: "fixed", minMs: 7_200_000 } }),
    ]);
    try {
      const longClient = createHtcClient({ baseUrl: long.baseUrl, apiKey: long.apiKey, retry: false });
      const longAdmin = adminOf(long);
      const ids = await newTask(longClient, "later");
      await longAdmin.addFault({
        match: { taskId: ids.taskId, jobIndexes: [0] },
        job: { kind: "exitCode", exitCode: 9, afterSeconds: 600 },
      });
      const [faulty, healthy] = await submit(longClient, ids, 2, { definition: { execTimeoutSeconds: 86400 } });
      await waitForJobs(longClient, ids, (jobs) => jobs.every((j) => j.status === "RUNNING"));
      await longAdmin.advanceClock({ minutes: 11 });
      await waitForJobs(longClient, ids, (jobs) => byId(jobs).get(faulty!)?.status === "FAILED");
      const job = await jobOf(longClient, ids, faulty!);
      expect(job).toMatchObject({ status: "FAILED", container: { exitCode: 9 } });
      const ran = Date.parse(job.completedAt!) - Date.parse(job.startedAt!);
      expect(ran).toBeGreaterThanOrEqual(600_000);
      expect(ran).toBeLessThan(660_000 + 5_000);
      // The other job runs on, until its two hours are up.
      expect((await jobOf(longClient, ids, healthy!)).status).toBe("RUNNING");
      await longAdmin.advanceClock({ hours: 2 });
      const jobs = byId(await waitForJobs(longClient, ids, finished));
      expect(jobs.get(healthy!)?.status).toBe("SUCCEEDED");
    } finally {
      await long.stop();
    }
  });

  it("spoils only the attempts it names, so the retry strategy gets the job through", async () => {
    const ids = await newTask(client, "retry");
    await admin.addFault({ match: { taskId: ids.taskId, attempts: [1] }, job: { kind: "vanish" } });
    const [jobId] = await submit(client, ids, 1, { retries: 1 });
    const [job] = await waitForJobs(client, ids, finished);
    expect(job).toMatchObject({ jobUUID: jobId, status: "SUCCEEDED" });
    const events = await eventsOf(client, ids, jobId!);
    const failed = events.find((e) => e.status === "FAILED");
    expect(failed?.statusReason).toBe("Container vanished: the container was removed while the job ran");
    expect(events.filter((e) => e.status === "RUNNING")).toHaveLength(2);
  });

  it("keeps a job RUNNABLE with a statusReason while the rule stands, and releases it when the rule goes", async () => {
    const ids = await newTask(client, "stuck-runnable");
    const reason = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - the job needs more vCPUs than any instance type offers";
    await admin.addFault({
      id: "stuck",
      match: { taskId: ids.taskId, jobIndexes: [0] },
      job: { kind: "stuck", status: "RUNNABLE", statusReason: reason },
    });
    const [stuckId, freeId] = await submit(client, ids, 2);
    await waitForJobs(client, ids, (jobs) => byId(jobs).get(freeId!)?.status === "SUCCEEDED");
    // Well after its sibling finished, the job is still RUNNABLE, with the rule's reason.
    await new Promise((r) => setTimeout(r, 300));
    expect(await jobOf(client, ids, stuckId!)).toMatchObject({ status: "RUNNABLE", statusReason: reason });
    expect(await admin.getFault("stuck")).toMatchObject({ held: 1, injected: 1 });
    expect((await admin.scheduler()).held).toBe(1);

    await admin.removeFault("stuck");
    const jobs = byId(await waitForJobs(client, ids, finished));
    expect(jobs.get(stuckId!)).toMatchObject({ status: "SUCCEEDED", statusReason: "Completed" });
    expect((await admin.scheduler()).held).toBe(0);
  });

  it("holds jobs in STARTING and RUNNING for forSeconds of the clock", async () => {
    const ids = await newTask(client, "stuck-later");
    await admin.addFault({ match: { taskId: ids.taskId, jobIndexes: [0] }, job: { kind: "stuck", status: "STARTING", forSeconds: 3600 } });
    await admin.addFault({
      match: { taskId: ids.taskId, jobIndexes: [1] },
      job: { kind: "stuck", status: "RUNNING", statusReason: "hung", forSeconds: 7200 },
    });
    const [starting, running] = await submit(client, ids, 2);
    await waitForJobs(client, ids, (jobs) => {
      const j = byId(jobs);
      return j.get(starting!)?.status === "STARTING" && j.get(running!)?.status === "RUNNING";
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await jobOf(client, ids, starting!)).toMatchObject({
      status: "STARTING",
      statusReason: expect.stringContaining("Waiting for the container to start"),
    });
    expect(await jobOf(client, ids, running!)).toMatchObject({ status: "RUNNING", statusReason: "hung" });

    await admin.advanceClock({ hours: 1, seconds: 1 });
    await waitForJobs(client, ids, (jobs) => byId(jobs).get(starting!)?.status === "SUCCEEDED");
    expect((await jobOf(client, ids, running!)).status).toBe("RUNNING");
    await admin.advanceClock({ hours: 1 });
    const jobs = byId(await waitForJobs(client, ids, finished));
    expect(jobs.get(running!)).toMatchObject({ status: "SUCCEEDED", statusReason: "Completed" });
  });

  it("lets a cancellation win over a held job", async () => {
    const ids = await newTask(client, "stuck-cancel");
    await admin.addFault({ match: { taskId: ids.taskId }, job: { kind: "stuck", status: "RUNNING" } });
    const [jobId] = await submit(client, ids, 1);
    await waitForJobs(client, ids, (jobs) => jobs[0]?.status === "RUNNING");
    await client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", { params: { path: ids, query: { jobId: [jobId!] } } });
    const [job] = await waitForJobs(client, ids, finished);
    expect(job).toMatchObject({ status: "FAILED", statusReason: "Cancelled by user" });
  });

  it("faults the same jobs for the same seed, whatever else runs", async () => {
    const rule = { seed: 11, probability: 0.5, job: { kind: "exitCode" as const, exitCode: 4 } };
    const faulted = async (name: string) => {
      const ids = await newTask(client, name);
      const added = await admin.addFault({ ...rule, match: { taskId: ids.taskId } });
      await submit(client, ids, 6, { group: "a" });
      await submit(client, ids, 14, { group: "b" });
      const jobs = await waitForJobs(client, ids, finished);
      await admin.removeFault(added.id);
      // By position in the task: batch a's jobs first, then batch b's.
      return jobs.map((j) => (j.status === "FAILED" ? 1 : 0)).join("");
    };
    const first = await faulted("seeded-1");
    const second = await faulted("seeded-2");
    expect(second).toBe(first);
    expect(first).toContain("1");
    expect(first).toContain("0");
  });
});
