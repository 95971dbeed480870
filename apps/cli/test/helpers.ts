// Test helpers: run the real `htc` (node + tsx, as the bin does) in a child process with a throwaway HOME and
// config, against an emulator started in the test process. Everything talks to 127.0.0.1 only.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { constants as osConstants, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { requireMember } from "@htcemu/client";
import { type RunningEmulator, type StartOptions, startEmulator } from "@htcemu/emulator";

export const BIN = fileURLToPath(new URL("../dev/htc.js", import.meta.url));

export interface HtcResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (loosely typed: the tests check the shape with expect()). */
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON, checked by the assertions
  json<T = any>(): T;
  /** stderr parsed as JSON (errors with --json). */
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON, checked by the assertions
  errorJson<T = any>(): T;
}

export interface HtcOptions {
  /** Extra environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, then closed. */
  input?: string;
  timeoutMs?: number;
  /** Working directory of the child (default: the test's). */
  cwd?: string;
}

/** A throwaway home: HOME and XDG_CONFIG_HOME point into it, so no user file is read or written. */
export class TestHome {
  readonly dir = mkdtempSync(join(tmpdir(), "htc-cli-test-"));
  readonly configFile = join(this.dir, ".config", "htcemu", "config.json");

  /** The environment of a child: PATH, the temp home and strict emulators only (none of the caller's RESCALE_ or HTC_ variables). */
  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env["PATH"],
      HOME: this.dir,
      XDG_CONFIG_HOME: join(this.dir, ".config"),
      TMPDIR: process.env["TMPDIR"],
      // The Docker CLI keeps its login in $HOME/.docker (the temp home); it finds the engine as usual.
      DOCKER_HOST: process.env["DOCKER_HOST"],
      // Emulators a test starts through htc (`emulator start`, `emulator exec`) check their answers against the
      // contract like the in-process one; a test may still pass HTC_EMULATOR_STRICT: undefined to see the default.
      HTC_EMULATOR_STRICT: "1",
    };
    for (const [k, v] of Object.entries(extra)) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    return env;
  }

  /** Runs `htc …args`. */
  run(args: string[], options: HtcOptions = {}): Promise<HtcResult> {
    return runHtc(args, { ...options, env: this.env(options.env) });
  }

  /** Starts `htc …args` and hands back the child (long-running commands). */
  spawn(args: string[], options: HtcOptions = {}) {
    return spawn(process.execPath, [BIN, ...args], { env: this.env(options.env), cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function runHtc(args: string[], options: HtcOptions & { env: NodeJS.ProcessEnv }): Promise<HtcResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: options.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 45_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const result: HtcResult = {
        code: code ?? (signal ? 128 : 1),
        stdout,
        stderr,
        json: () => parse(stdout, `stdout of htc ${args.join(" ")}`, stderr),
        errorJson: () => parse(stderr.trim().split("\n").pop() ?? "", `stderr of htc ${args.join(" ")}`, stderr),
      };
      resolve(result);
    });
    child.stdin.end(options.input ?? "");
  });
}

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, checked by the assertions
function parse(text: string, what: string, stderr: string): any {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON:\n${text}\n--- stderr ---\n${stderr}`);
  }
}

/** The simulated emulator every CLI test uses, with a request log to count operations. */
export interface TestEmulator extends RunningEmulator {
  requests: string[];
  /** How many requests matched `METHOD path-regex` so far. */
  count(method: string, path: RegExp): number;
}

export async function startTestEmulator(overrides: StartOptions = {}): Promise<TestEmulator> {
  const requests: string[] = [];
  const violations: string[] = [];
  const { log, ...rest } = overrides;
  const emulator = await startEmulator({
    // Every answer the CLI sees is checked against the contract: drift becomes a 500 instead of passing unseen.
    strict: true,
    executor: "simulated",
    simulation: { duration: { distribution: "fixed", minMs: 100 }, startDelayMs: [10, 20] },
    logRequests: true,
    ...rest,
    log: (line) => {
      if (line.startsWith("STRICT:")) violations.push(line);
      requests.push(line);
      log?.(line);
    },
  });
  const stop = emulator.stop;
  return Object.assign(emulator, {
    // A test that expects a failure (exit 1) would also pass on a strict 500: stop() (afterAll) reports any.
    stop: async () => {
      await stop();
      if (violations.length > 0) throw new Error(`the emulator's answers drifted from the contract:\n${violations.join("\n")}`);
    },
    requests,
    count: (method: string, path: RegExp) =>
      requests.filter((line) => {
        const [m, p] = line.split(" ");
        return m === method && p !== undefined && path.test(p);
      }).length,
  });
}

/** Creates a project and a task through the emulator's own client. */
export async function createProjectAndTask(emulator: RunningEmulator, name = "cli-test"): Promise<{ projectId: string; taskId: string }> {
  const api = emulator.client.api;
  const project = await api.POST("/htc/projects", { body: { projectName: name, projectDescription: "" } });
  if (!project.data) throw new Error(`cannot create a project: ${JSON.stringify(project.error)}`);
  const projectId = requireMember(project.data, "projectId");
  const task = await api.POST("/htc/projects/{projectId}/tasks", {
    params: { path: { projectId } },
    body: { taskName: name, taskDescription: "" },
  });
  if (!task.data) throw new Error(`cannot create a task: ${JSON.stringify(task.error)}`);
  return { projectId, taskId: requireMember(task.data, "taskId") };
}

/** Whether the emulator serves an operation: an unserved one answers 404 "No operation answers …". */
export async function isServed(emulator: RunningEmulator, method: string, path: string): Promise<boolean> {
  const response = await emulator.client.fetch(new Request(`${emulator.baseUrl}${path}`, { method }));
  if (response.status !== 404) {
    await response.body?.cancel();
    return true;
  }
  const body = (await response.json().catch(() => ({}))) as { errorDescription?: string };
  return !(body.errorDescription ?? "").startsWith("No operation answers");
}

/** A context named `name` for the emulator, made current. */
export async function configureContext(home: TestHome, emulator: RunningEmulator, extra: string[] = [], name = "emulator"): Promise<void> {
  const result = await home.run(["config", "set", name, "--url", emulator.baseUrl, "--key", emulator.apiKey, "--use", ...extra]);
  if (result.code !== 0) throw new Error(`config set failed: ${result.stderr}`);
}

/** Collects a child's output and resolves once it matches (rejects when the child exits first or time runs out). */
export function waitForOutput(
  child: ChildProcessWithoutNullStreams,
  stream: "stdout" | "stderr",
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let text = "";
    const source = child[stream];
    const onData = (d: Buffer | string) => {
      text += d.toString();
      const match = text.match(pattern);
      if (match) {
        done();
        resolve(match);
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`exited (${code ?? signal}) before ${pattern} appeared on ${stream}:\n${text}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${pattern} did not appear on ${stream} within ${timeoutMs} ms:\n${text}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      source.off("data", onData);
      child.off("exit", onExit);
    };
    source.on("data", onData);
    child.once("exit", onExit);
  });
}

/** Everything a child writes to a stream from now on. */
export function capture(child: ChildProcessWithoutNullStreams, stream: "stdout" | "stderr"): { readonly text: string } {
  const captured = { text: "" };
  child[stream].on("data", (d: Buffer | string) => {
    captured.text += d.toString();
  });
  return captured;
}

/** Resolves with the child's exit code, or 128+n when a signal killed it (as a shell reports it). */
export function exitOf(child: ChildProcessWithoutNullStreams): Promise<number> {
  return new Promise((resolve) => {
    const code = (exitCode: number | null, signal: NodeJS.Signals | null) =>
      exitCode ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
    if (child.exitCode !== null || child.signalCode !== null) return resolve(code(child.exitCode, child.signalCode));
    child.once("exit", (exitCode, signal) => resolve(code(exitCode, signal)));
  });
}

/** Whether something accepts TCP connections at `host:port` (on loopback: a registry, a server). */
export function reachable(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(":");
  return new Promise((resolve) => {
    const socket = connect({ host: host!, port: Number(port ?? 80) });
    socket.setTimeout(2000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}
