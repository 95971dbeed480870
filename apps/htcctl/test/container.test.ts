// htcctl inside a real job: a container of htcemu/node:20 (built by images/build.sh, which puts the bundle in
// /usr/local/bin/htcctl) run by the emulator's Docker executor, with nothing but the environment the runtime
// injects. The job downloads an input from the project's shared storage, uploads outputs to its task's storage,
// lists them, and uses htcctl as a module too (as the tutorial's workload does).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jobId, unwrap, waitForGroup } from "@htcemu/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundle, runHtcctl, startWorld, tempDir, type World } from "./helpers.js";

const IMAGE = "htcemu/node:20";

function missing(): string | undefined {
  const engine = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" });
  if (engine.status !== 0) return "no Docker engine answers (scripts/docker/ensure-engine.sh)";
  // The image carries the bundle of these sources: rebuild it when they changed (a second or so when not).
  const build = spawnSync("bash", [fileURLToPath(new URL("../../../images/build.sh", import.meta.url))], { encoding: "utf8" });
  if (build.status !== 0) return `images/build.sh failed: ${(build.stderr || build.stdout).trim()}`;
  const tool = spawnSync("docker", ["run", "--rm", "--network", "none", IMAGE, "htcctl", "--version"], { encoding: "utf8" });
  if (tool.status !== 0) return `${IMAGE} has no working htcctl (bash images/build.sh): ${tool.stderr.trim()}`;
  return undefined;
}

const why = missing();
if (why && process.env["HTC_REQUIRE_DOCKER"] === "1") throw new Error(`HTC_REQUIRE_DOCKER=1 but ${why}`);
if (why) console.warn(`htcctl container tests skipped: ${why}`);

describe.skipIf(why !== undefined)(`htcctl in a job of ${IMAGE}`, () => {
  let world: World;
  let bin: Awaited<ReturnType<typeof bundle>>;

  beforeAll(async () => {
    [world, bin] = await Promise.all([startWorld({ executor: "docker" }), bundle()]);
  });

  afterAll(async () => {
    await world?.emulator.stop();
    bin?.remove();
  });

  it("downloads from the shared storage and uploads to the task's, with only the injected environment", async () => {
    // The input, uploaded from outside with an API key as the tutorial does.
    const work = tempDir("htcctl-container-");
    writeFileSync(join(work, "greeting.txt"), "hello from the project\n");
    const key = { RESCALE_API_TOKEN: world.emulator.apiKey, RESCALE_HTC_API_URL: world.emulator.baseUrl };
    expect((await runHtcctl(bin.file, ["-s", "--project-id", world.projectId, "upload", "greeting.txt"], key, work)).code).toBe(0);

    const script = [
      "set -e",
      "cd /tmp",
      "htcctl -s download greeting.txt",
      'echo "job $AWS_BATCH_JOB_ARRAY_INDEX read: $(cat greeting.txt)"',
      "mkdir -p out/logs",
      'echo "result of $RESCALE_HTC_JOB_ID" > out/result.txt',
      "echo log > out/logs/run.log",
      "htcctl upload out/result.txt out/logs",
      // The same tool as a module, in this process.
      `node -e 'require("/usr/local/bin/htcctl").run(["list"]).then((code) => process.exit(code))' | sed -e 's/^/listed: /'`,
    ].join("\n");
    const ids = { projectId: world.projectId, taskId: world.taskId };
    const [batch] = await unwrap(
      world.emulator.client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: ids },
        body: [
          { batchSize: 2, htcJobDefinition: { imageName: IMAGE, maxMemory: 256, execTimeoutSeconds: 120, commands: ["sh", "-c", script] } },
        ],
      }),
    );
    const summary = await waitForGroup(world.emulator.client, { ...ids, intervalMs: 250, timeoutMs: 60_000 });
    const logs = await unwrap(
      world.emulator.client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", {
        params: { path: { ...ids, jobId: jobId(batch!.parentJobId!, 1) }, query: { sort: "asc" } },
      }),
    );
    const text = (logs.items ?? []).map((l) => l.message).join("\n");
    expect(summary.succeeded, text).toBe(2);
    expect(text).toContain("job 1 read: hello from the project");
    expect(text).toMatch(/upload: out\/result\.txt to s3:\/\/\S+\/tasks\/[^/]+\/out\/result\.txt/);
    expect(text).toContain("listed: out/logs/run.log");

    // What the jobs wrote, from outside.
    const back = tempDir("htcctl-container-back-");
    const down = await runHtcctl(bin.file, ["--project-id", world.projectId, "--task-id", world.taskId, "download", "out"], key, back);
    expect(down.code).toBe(0);
    expect(readFileSync(join(back, "out", "result.txt"), "utf8")).toMatch(/^result of [0-9a-f-]+:[01]\n$/);
    expect(readFileSync(join(back, "out", "logs", "run.log"), "utf8")).toBe("log\n");
  });
});
