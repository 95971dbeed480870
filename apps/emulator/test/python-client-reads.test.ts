// Rescale's Python client against the emulator: python/rescalehtc_reads.py makes the client's calls with its
// request bodies and reads its members the way it does (`json["member"]`, so an absent member is a KeyError), with
// Debian's python3 and nothing else. The case of the issue: HtcJobBatch.to_jobs() reads the batch's `group`, which
// the emulator left out when the batch had none. The emulator's default executor runs the jobs (a container when an
// engine answers).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectDockerEngine } from "../src/jobs/docker-engine.js";
import { startTestEmulator } from "./helpers.js";

const run = promisify(execFile);
const engine = await detectDockerEngine();
/** Debian's python3 first (what the client's users have), then whatever python3 is on PATH. */
const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

interface Reads {
  expiresIn: number;
  whoami: unknown[];
  project: unknown[];
  task: string[];
  tasks: string[][];
  toJobs: { group: string | null; projectId: string; taskId: string; jobUUID: string }[];
  stillRunning: number;
  updates: string[][];
  jobs: string[][];
  logs: string[];
  images: string[];
}

let emulator: SpawnedEmulator;
let reads: Reads;

beforeAll(async () => {
  emulator = await startTestEmulator();
  const script = fileURLToPath(new URL("./python/rescalehtc_reads.py", import.meta.url));
  // The client's default architecture is AARCH64; the jobs here run on this machine's.
  const input = {
    baseUrl: emulator.baseUrl,
    apiKey: emulator.apiKey,
    image: "htcemu/shell:1",
    architecture: process.arch === "arm64" ? "AARCH64" : "X86",
  };
  const { stdout } = await run(python, [script, JSON.stringify(input)], { timeout: 90_000 }).catch((error: { stderr?: string }) => {
    // The traceback names the member the client could not read.
    throw new Error(`rescalehtc_reads.py failed:\n${error.stderr ?? String(error)}`);
  });
  reads = JSON.parse(stdout) as Reads;
}, 120_000);

afterAll(async () => {
  await emulator?.stop();
});

describe("what Rescale's Python client reads is in the emulator's answers", () => {
  it("to_jobs() of a batch submitted without a group: group is None, one job per index", () => {
    const [first] = reads.toJobs;
    expect(reads.toJobs).toHaveLength(3);
    expect(reads.toJobs.map((job) => job.jobUUID)).toEqual([0, 1, 2].map((i) => `${first!.jobUUID.split(":")[0]}:${i}`));
    for (const job of reads.toJobs)
      expect(job).toEqual({ group: null, projectId: expect.any(String), taskId: reads.task[0], jobUUID: job.jobUUID });
  });

  it("reads the token, who the key belongs to, the project, the task and the images", () => {
    expect(reads.expiresIn).toBeGreaterThan(0);
    expect(reads.whoami.slice(0, 4).every((value) => typeof value === "string" && value.length > 0)).toBe(true);
    // A user without an organization: the member is there, as null.
    expect(reads.whoami[4] === null || typeof reads.whoami[4] === "string").toBe(true);
    expect(reads.project[0]).toBe("rescalehtc-reads");
    expect(reads.project[1]).toEqual([expect.any(String)]);
    expect(reads.tasks).toContainEqual(["reads", "ACTIVE", reads.task[0]]);
    expect(reads.images).toEqual([]);
  });

  it("follows the jobs until none runs, then reads their status, the list and the logs", () => {
    expect(reads.stillRunning).toBe(0);
    expect(reads.updates.map(([, status]) => status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
    expect(reads.jobs.map(([id]) => id)).toEqual(reads.toJobs.map((job) => job.jobUUID).sort());
    // A container prints what the job's command says; without an engine the jobs are simulated (their own lines).
    if (engine.ok) expect(reads.logs).toContain("read me");
    else expect(reads.logs.length).toBeGreaterThan(0);
  });
});
