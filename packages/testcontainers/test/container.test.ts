// HtcEmulatorContainer against the locally built htcemu/emulator, on this machine's engine (no bridge network:
// the host-network path). Jobs run as real sibling containers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { jobId, requireMember, unwrap } from "@htcemu/client";
import type { EmulatorOptions } from "@htcemu/emulator";
import { afterAll, describe, expect, expectTypeOf, inject, it } from "vitest";
import { HtcEmulatorContainer, type SimulationProfile, type StartedHtcEmulatorContainer } from "../src/index.js";

const unavailable = inject("imageUnavailable");
const started: StartedHtcEmulatorContainer[] = [];
const folders: string[] = [];
afterAll(async () => {
  for (const emulator of started) await emulator.stop().catch(() => {});
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

async function start(container: HtcEmulatorContainer): Promise<StartedHtcEmulatorContainer> {
  const emulator = await container.start();
  started.push(emulator);
  return emulator;
}

/** A project, a task, one job of `image` running `command`; its final status and log lines. */
async function runJob(emulator: StartedHtcEmulatorContainer, imageName: string, commands: string[]) {
  const api = emulator.client.api;
  const project = await unwrap(api.POST("/htc/projects", { body: { projectName: "tc", projectDescription: "testcontainers" } }));
  const projectId = requireMember(project, "projectId");
  const task = await unwrap(
    api.POST("/htc/projects/{projectId}/tasks", { params: { path: { projectId } }, body: { taskName: "t", taskDescription: "t" } }),
  );
  const path = { projectId, taskId: requireMember(task, "taskId") };
  const [batch] = await unwrap(
    api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
      params: { path },
      body: [{ jobName: "one", batchSize: 1, htcJobDefinition: { imageName, commands, maxVCpus: 1, maxMemory: 256 } }],
    }),
  );
  const id = jobId(batch!.parentJobId!, 0);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = await unwrap(
      api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", { params: { path: { ...path, jobId: id } } }),
    );
    if (job.status === "SUCCEEDED" || job.status === "FAILED") {
      const logs = await unwrap(
        api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", { params: { path: { ...path, jobId: id } } }),
      );
      return { status: job.status, lines: requireMember(logs, "items").map((l) => l.message), projectId };
    }
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("the simulation profile's type", () => {
  it("is the emulator's", () => {
    expectTypeOf<SimulationProfile>().toMatchTypeOf<NonNullable<EmulatorOptions["simulation"]>>();
    expectTypeOf<NonNullable<EmulatorOptions["simulation"]>>().toMatchTypeOf<SimulationProfile>();
  });
});

describe.skipIf(unavailable)("HtcEmulatorContainer", () => {
  it("starts with defaults: baseUrl, apiKey and a client; jobs run in sibling containers; stop() removes it", async () => {
    const emulator = await new HtcEmulatorContainer().start();
    try {
      expect(emulator.network).toBe("host");
      expect(emulator.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      expect(emulator.adminToken).toBeUndefined();
      const me = await unwrap(emulator.client.api.GET("/auth/whoami"));
      expect(me.user?.email).toBeTruthy();
      const token = await fetch(`${emulator.baseUrl}/auth/token`, { headers: { authorization: `Token ${emulator.apiKey}` } });
      expect(token.status).toBe(200);
      expect((await emulator.admin.info()).executor).toBe("docker");
      const job = await runJob(emulator, "htcemu/shell:1", [
        "sh",
        "-c",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, run by the job's shell
        'echo hello from a sibling; wget -q -O- "${RESCALE_HTC_API_URL%/api/v1}/_emulator/ready"',
      ]);
      expect(job.status).toBe("SUCCEEDED");
      expect(job.lines).toContain("hello from a sibling");
      expect(job.lines.join("\n")).toContain('"status":"ready"');
    } finally {
      const id = emulator.getId();
      const t0 = performance.now();
      await emulator.stop();
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(() => execFileSync("docker", ["inspect", id], { stdio: "ignore" })).toThrow();
    }
  });

  it("takes the executor, a simulation profile and strict mode", async () => {
    const emulator = await start(
      new HtcEmulatorContainer()
        .withExecutor("simulated")
        .withSimulation({ successRatio: 0, failureExitCodes: [3], startDelayMs: [0, 0], duration: { distribution: "fixed", minMs: 10 } })
        .withStrict(),
    );
    expect((await emulator.admin.info()).executor).toBe("simulated");
    const job = await runJob(emulator, "any/image:1", ["true"]);
    expect(job.status).toBe("FAILED");
    const env = JSON.parse(
      execFileSync("docker", ["inspect", "--format", "{{json .Config.Env}}", emulator.getId()], { encoding: "utf8" }),
    ) as string[];
    expect(env).toContain("HTC_EMULATOR_STRICT=1");
    expect(env).toContain("HTC_EMULATOR_EXECUTOR=simulated");
    // Nothing of the engine is mounted for a simulated executor.
    const mounts = execFileSync("docker", ["inspect", "--format", "{{json .Mounts}}", emulator.getId()], { encoding: "utf8" });
    expect(mounts).not.toContain("docker.sock");
  });

  it("keeps its state in a data folder: a new container on it resumes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "htcemu-tc-data-"));
    folders.push(dir);
    const first = await new HtcEmulatorContainer({ executor: "simulated", dataDir: dir, apiKey: "tc-data-folder-key" }).start();
    const projectId = requireMember(
      await unwrap(first.client.api.POST("/htc/projects", { body: { projectName: "kept", projectDescription: "" } })),
      "projectId",
    );
    await first.stop();
    const second = await start(new HtcEmulatorContainer({ executor: "simulated", dataDir: dir, apiKey: "tc-data-folder-key" }));
    const project = await unwrap(second.client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId } } }));
    expect(project.projectName).toBe("kept");
  });

  it("says how to build an image that is not in the engine", async () => {
    await expect(new HtcEmulatorContainer({ image: "htcemu/emulator:0.0.0-missing" }).start()).rejects.toThrow(
      /htcemu\/emulator:0\.0\.0-missing is not in the Docker engine: build it with `bash images\/build\.sh htcemu\/emulator`/,
    );
  });

  it("fails at once with the emulator's own line when it cannot start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "htcemu-tc-ro-"));
    folders.push(dir);
    const container = new HtcEmulatorContainer({
      executor: "simulated",
      environment: { HTC_EMULATOR_IN_MEMORY: "0", HTC_EMULATOR_DATA_DIR: "/data" },
    }).withBindMounts([{ source: dir, target: "/data", mode: "ro" }]);
    const t0 = performance.now();
    await expect(container.start()).rejects.toThrow(/exited with code 1[\s\S]*the data folder \/data is on a read-only file system/);
    expect(performance.now() - t0).toBeLessThan(15_000);
  });
});
