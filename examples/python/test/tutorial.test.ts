// The Python tutorial (tutorial.py, Debian's python3-requests and python3-boto3) against the emulator's image,
// jobs in real sibling containers, its image pushed from this machine to the project's registry.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { HtcEmulatorContainer, type StartedHtcEmulatorContainer } from "@htcemu/testcontainers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const unavailable = inject("imageUnavailable");
const script = fileURLToPath(new URL("../tutorial.py", import.meta.url));

function python(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return promisify(execFile)("python3", args, { env, timeout: 280_000, maxBuffer: 16 * 1024 * 1024 });
}

describe.skipIf(unavailable)("examples/python/tutorial.py", () => {
  let emulator: StartedHtcEmulatorContainer;
  beforeAll(async () => {
    // requests and boto3 as Debian packages them (scripts/docker/ensure-engine.sh installs them).
    await python(["-c", "import requests, boto3"]).catch((error: Error) => {
      throw new Error(`python3 with requests and boto3 is needed (apt-get install python3-requests python3-boto3): ${error.message}`);
    });
    emulator = await new HtcEmulatorContainer({ executor: "docker" }).start();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it("runs the journey: token, project, registry push, shared storage, a batch in a group, statistics, logs, results", async () => {
    const { stdout } = await python([script], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HTC_BASE_URL: emulator.baseUrl,
      RESCALE_API_KEY: emulator.apiKey,
      HTC_PY_JOBS: "6",
    });
    expect(stdout).toMatch(/pushed 127\.0\.0\.1:\d+\/rescale\/[^/]+\/numbers-htc-tutorial:v1: READY/);
    expect(stdout).toContain("SUCCEEDED 6");
    expect(stdout).toMatch(/\| part 0 sums to -?\d+/);
    expect(stdout).toContain("6 results, every sum right");
    expect(stdout).toContain("tutorial complete");
  });

  it("says what is missing without an API key", async () => {
    const run = python([script], { PATH: process.env.PATH, HTC_BASE_URL: emulator.baseUrl });
    await expect(run).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining("set RESCALE_API_KEY") });
  });
});
