// Jobs in real containers through the Docker engine: the environment the runtime injects (and a job calling the
// API with its own token), exit codes, timeouts by the emulator's clock, cancellation of a running container,
// and recovery after the emulator was killed mid-run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type HtcClient, jobId, waitForGroup } from "@htcemu/client";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectDockerEngine } from "../src/jobs/docker-engine.js";
import { contractClient, http, startTestEmulator, sent } from "./helpers.js";

const engine = await detectDockerEngine();
// CI installs an engine (scripts/docker/ensure-engine.sh); elsewhere the file is skipped with the reason.
if (!engine.ok && process.env.HTC_REQUIRE_DOCKER === "1") throw new Error(`HTC_REQUIRE_DOCKER=1 but ${engine.reason}`);
const describeDocker = engine.ok ? describe : describe.skip;
if (!engine.ok) console.warn(`Docker tests skipped: ${engine.reason}`);

const image = "htcemu/shell:1";

describeDocker("jobs in Docker containers", () => {
  let emulator: SpawnedEmulator;
  let client: HtcClient;

  beforeAll(async () => {
    emulator = await startTestEmulator(["--executor", "docker"]);
    client = contractClient(emulator, { apiKey: emulator.apiKey });
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  async function newTask(c: HtcClient = client) {
    const project = await sent(c.api.POST("/htc/projects", { body: { projectName: "docker", projectDescription: "" } }));
    const task = await sent(
      c.api.POST("/htc/projects/{projectId}/tasks", {
        params: { path: { projectId: project.projectId } },
        body: { taskName: "t", taskDescription: "" },
      }),
    );
    return { projectId: project.projectId, taskId: task.taskId };
  }

  async function submit(
    ids: { projectId: string; taskId: string },
    definition: Record<string, unknown>,
    batchSize = 1,
    c: HtcClient = client,
  ) {
    const [batch] = await sent(
      c.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: ids },
        body: [{ batchSize, htcJobDefinition: { imageName: image, maxMemory: 64, execTimeoutSeconds: 60, ...definition } }],
      }),
    );
    return batch!.parentJobId;
  }

  async function job(ids: { projectId: string; taskId: string }, id: string, c: HtcClient = client) {
    return sent(c.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", { params: { path: { ...ids, jobId: id } } }));
  }

  async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function logs(ids: { projectId: string; taskId: string }, id: string, c: HtcClient = client) {
    const page = await sent(
      c.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", {
        params: { path: { ...ids, jobId: id }, query: { sort: "asc" } },
      }),
    );
    return page.items.map((l) => l.message);
  }

  it("injects the runtime's environment, and the job reaches the API with its own token", async () => {
    const ids = await newTask();
    const script = [
      'echo "index=$AWS_BATCH_JOB_ARRAY_INDEX task=$RESCALE_HTC_TASK_ID project=$RESCALE_HTC_PROJECT_ID job=$RESCALE_HTC_JOB_ID region=$RESCALE_HTC_REGION user=$MY_VAR"',
      'wget -qO- --header "Authorization: Bearer $RESCALE_HTC_BEARER_TOKEN" "$RESCALE_HTC_API_URL/auth/token/whoami"',
      "echo",
      "echo to-stderr >&2",
    ].join("; ");
    const parent = await submit(
      ids,
      { commands: ["sh", "-c", script], envs: [{ name: "MY_VAR", value: "hello" }], claims: [{ name: "stage", value: "render" }] },
      2,
    );
    const done = await waitForGroup(client, { ...ids, intervalMs: 200, timeoutMs: 60_000 });
    expect(done.succeeded).toBe(2);
    const lines = await logs(ids, jobId(parent, 1));
    expect(lines).toContain(`index=1 task=${ids.taskId} project=${ids.projectId} job=${jobId(parent, 1)} region=AWS_US_WEST_2 user=hello`);
    // stdout and stderr are separate streams: find the API's answer by its shape, not its position.
    const claims = JSON.parse(lines.find((l) => l.startsWith("{"))!) as Record<string, unknown>;
    expect(claims.userDefined_stage).toBe("render");
    expect(lines).toContain("to-stderr");
    const finished = await job(ids, jobId(parent, 1));
    expect(finished).toMatchObject({ status: "SUCCEEDED", container: { exitCode: 0 } });
    expect(finished.instanceId).toMatch(/^[0-9a-f]{12,}/);
  });

  it("fails a non-zero exit with ErrorNonZeroContainerExitCode and the exit code", async () => {
    const ids = await newTask();
    const parent = await submit(ids, { commands: ["sh", "-c", "echo failing; exit 3"] });
    const failed = await until(
      () => job(ids, jobId(parent, 0)),
      (j) => j.status === "FAILED",
    );
    expect(failed).toMatchObject({ failureCode: "ErrorNonZeroContainerExitCode", container: { exitCode: 3 } });
    expect(await logs(ids, jobId(parent, 0))).toEqual(["failing"]);
  });

  it("enforces execTimeoutSeconds by the emulator's clock", async () => {
    const ids = await newTask();
    const parent = await submit(ids, { commands: ["sleep", "120"], execTimeoutSeconds: 60 });
    await until(
      () => job(ids, jobId(parent, 0)),
      (j) => j.status === "RUNNING",
    );
    await http(`${emulator.rootUrl}/_emulator/v1/clock`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ advanceSeconds: 61 }),
    });
    const failed = await until(
      () => job(ids, jobId(parent, 0)),
      (j) => j.status === "FAILED",
      15_000,
    );
    expect(failed.failureCode).toBe("ErrorTimeout");
  });

  it("stops a running container when its job is cancelled", async () => {
    const ids = await newTask();
    const parent = await submit(ids, { commands: ["sleep", "60"] });
    await until(
      () => job(ids, jobId(parent, 0)),
      (j) => j.status === "RUNNING",
    );
    await sent(client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", { params: { path: ids } }));
    const cancelled = await until(
      () => job(ids, jobId(parent, 0)),
      (j) => j.status === "FAILED",
      15_000,
    );
    expect(cancelled).toMatchObject({ statusReason: "Cancelled by user", failureCode: null });
    const events = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events", {
        params: { path: { ...ids, jobId: jobId(parent, 0) } },
      }),
    );
    expect(events.items.at(-1)).toMatchObject({ status: "FAILED", userCancelledEvent: true });
  });

  it("refuses a submission naming an image the engine does not have", async () => {
    const ids = await newTask();
    const refused = await client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
      params: { path: ids },
      body: [{ htcJobDefinition: { imageName: "no-such-image:1" } }],
    });
    expect(refused.response.status).toBe(400);
    expect(refused.error).toMatchObject({ errorDescription: expect.stringMatching(/^\[0\]\.htcJobDefinition\.imageName/) });
  });

  it("re-attaches to a running job after the emulator was killed, and runs it only once", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "htcemu-restart-"));
    try {
      const first = await startTestEmulator(["--executor", "docker", "--data-dir", dataDir]);
      const c1 = contractClient(first, { apiKey: first.apiKey });
      const ids = await newTask(c1);
      const parent = await submit(ids, { commands: ["sh", "-c", "echo started; sleep 4; echo finished"] }, 1, c1);
      await until(
        () => job(ids, jobId(parent, 0), c1),
        (j) => j.status === "RUNNING",
      );
      first.process.kill("SIGKILL");
      await new Promise((r) => first.process.once("exit", r));
      const second = await startTestEmulator(["--executor", "docker", "--data-dir", dataDir, "--api-key", first.apiKey]);
      try {
        const c2 = contractClient(second, { apiKey: first.apiKey });
        const done = await until(
          () => job(ids, jobId(parent, 0), c2),
          (j) => j.status === "SUCCEEDED" || j.status === "FAILED",
          30_000,
        );
        expect(done.status).toBe("SUCCEEDED");
        const lines = await logs(ids, jobId(parent, 0), c2);
        expect(lines.filter((l) => l === "started")).toHaveLength(1);
        expect(lines).toContain("finished");
        const events = await sent(
          c2.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events", {
            params: { path: { ...ids, jobId: jobId(parent, 0) } },
          }),
        );
        expect(events.items.filter((e) => e.status === "STARTING")).toHaveLength(1);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
