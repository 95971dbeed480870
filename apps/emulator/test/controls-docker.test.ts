// Job faults through the Docker executor: an exit code (the container is stopped and the attempt ends with the
// rule's code), an image that fails to pull (the engine really fails to find it), a container removed behind the
// executor's back (the executor finds it gone), and a reset that stops running containers. Skipped without an
// engine (CI requires one with HTC_REQUIRE_DOCKER=1).
import { createHtcClient, type HtcClient } from "@htcemu/client";
import type { AdminClient } from "@htcemu/client/admin";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import type Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultDocker, detectDockerEngine } from "../src/jobs/docker-engine.js";
import { adminOf, byId, eventsOf, finished, newTask, submit, waitForJobs } from "./controls-helpers.js";
import { startTestEmulator } from "./helpers.js";

const engine = await detectDockerEngine();
if (!engine.ok && process.env.HTC_REQUIRE_DOCKER === "1") throw new Error(`HTC_REQUIRE_DOCKER=1 but ${engine.reason}`);
const describeDocker = engine.ok ? describe : describe.skip;
if (!engine.ok) console.warn(`Docker fault tests skipped: ${engine.reason}`);

const sleeper = { imageName: "htcemu/shell:1", commands: ["sh", "-c", "echo started; sleep 60"], maxMemory: 64, execTimeoutSeconds: 120 };

describeDocker("job faults in Docker containers", () => {
  let emulator: SpawnedEmulator;
  let client: HtcClient;
  let admin: AdminClient;

  beforeAll(async () => {
    emulator = await startTestEmulator(["--executor", "docker"]);
    client = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: emulator.apiKey, retry: false });
    admin = adminOf(emulator);
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  it("ends a running container with the rule's exit code, fails the pull, and notices a removed container", async () => {
    const ids = await newTask(client, "docker-faults");
    await admin.addFault({
      id: "exit",
      match: { taskId: ids.taskId, jobIndexes: [0] },
      job: { kind: "exitCode", exitCode: 42, afterSeconds: 1 },
    });
    await admin.addFault({ id: "pull", match: { taskId: ids.taskId, jobIndexes: [1] }, job: { kind: "imagePullFailure" } });
    await admin.addFault({ id: "vanish", match: { taskId: ids.taskId, jobIndexes: [2] }, job: { kind: "vanish", afterSeconds: 1 } });
    const [exit, pull, vanish] = await submit(client, ids, 3, { definition: sleeper });
    const jobs = byId(await waitForJobs(client, ids, finished, 45_000));
    expect(jobs.get(exit!)).toMatchObject({ status: "FAILED", failureCode: "ErrorNonZeroContainerExitCode", container: { exitCode: 42 } });
    expect(jobs.get(pull!)).toMatchObject({ status: "FAILED", failureCode: "ErrorStartingContainer", startedAt: null });
    expect(jobs.get(pull!)!.statusReason).toMatch(/^CannotPullContainerError: .*htcemu\/shell:1/);
    expect(jobs.get(vanish!)).toMatchObject({ status: "FAILED", failureCode: "ErrorInfrastructureFault" });
    expect(jobs.get(vanish!)!.statusReason).toMatch(/^Container vanished: /);
    // The faulted jobs really ran in a container (RUNNING, with the container's id), the pull failure never did.
    expect(jobs.get(exit!)!.instanceId).toMatch(/^[0-9a-f]{64}$/);
    expect((await eventsOf(client, ids, pull!)).map((e) => e.status)).not.toContain("RUNNING");
    await admin.clearFaults();
  }, 60_000);

  it("stops the containers of the jobs a reset removes", async () => {
    const ids = await newTask(client, "docker-reset");
    await submit(client, ids, 2, { definition: sleeper });
    const running = await waitForJobs(client, ids, (jobs) => jobs.every((j) => j.status === "RUNNING"), 45_000);
    const containers = running.map((j) => j.instanceId!);
    await admin.reset();
    const docker: Dockerode = defaultDocker();
    // When reset returns, the containers are no longer running (their removal follows right after).
    for (const id of containers) {
      const running = await docker
        .getContainer(id)
        .inspect()
        .then(
          (info) => info.State.Running,
          (error: { statusCode?: number }) => (error.statusCode === 404 ? false : Promise.reject(error)),
        );
      expect(running, `container ${id}`).toBe(false);
    }
    expect((await admin.scheduler()).executing).toBe(0);
  }, 60_000);
});
