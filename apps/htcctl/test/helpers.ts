// Test helpers: bundle htcctl once (as images/build.sh does), run the bundle with node in a child process with
// exactly the environment given (nothing inherited but PATH), and set up an emulator with a project and a task.
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { requireMember, unwrap } from "@htcemu/client";
import { type RunningEmulator, type StartOptions, startEmulator } from "@htcemu/emulator";

const BUNDLER = fileURLToPath(new URL("../scripts/bundle.mjs", import.meta.url));

/** Bundles src/bin.ts into a temporary folder; returns the file and a clean-up. */
export async function bundle(): Promise<{ file: string; dir: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), "htcctl-test-"));
  const file = join(dir, "htcctl.cjs");
  await promisify(execFile)(process.execPath, [BUNDLER, file]);
  return { file, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node <bin> …args` in `cwd` with PATH and `env` only. */
export function runHtcctl(bin: string, args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export interface World {
  emulator: RunningEmulator;
  projectId: string;
  taskId: string;
  userId: string;
}

export async function startWorld(options: StartOptions = {}): Promise<World> {
  const violations: string[] = [];
  const { log, ...rest } = options;
  // strict: answers that drift from the contract become 500s, so htcctl is never tested against an off-contract server.
  const emulator = await startEmulator({
    inMemory: true,
    executor: "simulated",
    registry: "off",
    strict: true,
    ...rest,
    log: (line) => {
      if (line.startsWith("STRICT:")) violations.push(line);
      log?.(line);
    },
  });
  // htcctl retries and falls back on errors, which could hide a strict 500: stop() (afterAll) reports any.
  const stop = emulator.stop;
  emulator.stop = async () => {
    await stop();
    if (violations.length > 0) throw new Error(`the emulator's answers drifted from the contract:\n${violations.join("\n")}`);
  };
  const htc = emulator.client;
  const me = await unwrap(htc.api.GET("/auth/whoami"));
  const project = await unwrap(htc.api.POST("/htc/projects", { body: { projectName: "htcctl", projectDescription: "" } }));
  const projectId = requireMember(project, "projectId");
  const task = await unwrap(
    htc.api.POST("/htc/projects/{projectId}/tasks", { params: { path: { projectId } }, body: { taskName: "t", taskDescription: "" } }),
  );
  const userId = requireMember(requireMember(me, "user"), "userId");
  return { emulator, projectId, taskId: requireMember(task, "taskId"), userId };
}

export async function newTask(world: World): Promise<string> {
  const task = await unwrap(
    world.emulator.client.api.POST("/htc/projects/{projectId}/tasks", {
      params: { path: { projectId: world.projectId } },
      body: { taskName: "t2", taskDescription: "" },
    }),
  );
  return requireMember(task, "taskId");
}

/** What the runtime injects into a job of `taskId` that htcctl reads, with tokens minted by the admin API. */
export async function jobEnvironment(world: World, taskId = world.taskId): Promise<Record<string, string>> {
  const response = await fetch(`${world.emulator.rootUrl}/_emulator/v1/job-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId: world.userId, projectId: world.projectId, taskId }),
  });
  if (response.status !== 201) throw new Error(`job-tokens: ${response.status} ${await response.text()}`);
  const tokens = (await response.json()) as { bearerToken: string; refreshToken: string };
  return {
    RESCALE_HTC_BEARER_TOKEN: tokens.bearerToken,
    RESCALE_HTC_REFRESH_TOKEN: tokens.refreshToken,
    RESCALE_HTC_API_URL: world.emulator.baseUrl,
    RESCALE_HTC_PROJECT_ID: world.projectId,
    RESCALE_HTC_TASK_ID: taskId,
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
