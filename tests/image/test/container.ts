// The emulator's image run the way the README shows: `docker run --network host -v <socket> -v <folder>:/data
// htcemu/emulator`, through the docker CLI. Each test gets a free port; everything it starts is removed at the end.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export const IMAGE = "htcemu/emulator:latest";
export const SOCKET = "/var/run/docker.sock";

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export async function docker(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Result> {
  const run = promisify(execFile);
  try {
    const child = run("docker", args, {
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    if (options.input !== undefined) {
      child.child.stdin!.end(options.input);
    }
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw error;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** Throws with docker's own words unless it succeeded. */
export async function dockerOk(args: string[], options: Parameters<typeof docker>[1] = {}): Promise<string> {
  const result = await docker(args, options);
  if (result.code !== 0) throw new Error(`docker ${args.join(" ")} failed (${result.code}): ${result.stderr || result.stdout}`);
  return result.stdout.trim();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Containers and folders made by the tests of one file, removed by cleanUp(). */
const made = { containers: new Set<string>(), folders: new Set<string>() };

export function tempFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `htcemu-image-${prefix}-`));
  made.folders.add(dir);
  return dir;
}

export async function cleanUp(): Promise<void> {
  if (made.containers.size) await docker(["rm", "-f", "-v", ...made.containers]);
  made.containers.clear();
  for (const dir of made.folders) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Written by root in the container while the tests run as another user: remove it from a container.
      await docker(["run", "--rm", "--network", "none", "-v", `${dir}:/d`, "htcemu/shell:1", "rm", "-rf", "/d"]);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  made.folders.clear();
}

export interface RunOptions {
  /** HTC_EMULATOR_* (and other) variables. */
  env?: Record<string, string>;
  /** Arguments after the image's name (the emulator's flags). */
  args?: string[];
  /** Mount the engine's socket (default true). */
  socket?: boolean | string;
  /** A folder mounted at /data (`:ro` with readOnly). */
  data?: string;
  readOnly?: boolean;
  /** `--user`. */
  user?: string;
  /** The port set with HTC_EMULATOR_PORT (default: a free one). */
  port?: number;
}

export interface Emulator {
  id: string;
  port: number;
  rootUrl: string;
  baseUrl: string;
  logs(): Promise<string>;
  /** `docker stop`: how long it took and the exit code. */
  stop(signal?: "TERM" | "INT"): Promise<{ ms: number; code: number }>;
}

/** `docker run -d --network host …`; does not wait (see ready()). */
export async function runEmulator(options: RunOptions = {}): Promise<Emulator> {
  const port = options.port ?? (await freePort());
  const args = ["run", "-d", "--network", "host"];
  const socket = options.socket ?? true;
  if (socket) args.push("-v", `${socket === true ? SOCKET : socket}:${SOCKET}`);
  if (options.data) args.push("-v", `${options.data}:/data${options.readOnly ? ":ro" : ""}`);
  if (options.user) args.push("--user", options.user);
  for (const [name, value] of Object.entries({ HTC_EMULATOR_PORT: String(port), ...options.env })) args.push("-e", `${name}=${value}`);
  args.push(IMAGE, ...(options.args ?? []));
  const id = await dockerOk(args);
  made.containers.add(id);
  const rootUrl = `http://127.0.0.1:${port}`;
  return {
    id,
    port,
    rootUrl,
    baseUrl: `${rootUrl}/api/v1`,
    logs: async () => {
      const result = await docker(["logs", id]);
      return `${result.stdout}${result.stderr}`;
    },
    stop: async (signal = "TERM") => {
      const started = performance.now();
      if (signal === "TERM") await dockerOk(["stop", "-t", "10", id]);
      else {
        await dockerOk(["kill", "-s", signal, id]);
        await dockerOk(["wait", id]);
      }
      const ms = performance.now() - started;
      return { ms, code: Number(await dockerOk(["inspect", "--format", "{{.State.ExitCode}}", id])) };
    },
  };
}

/** Waits until the readiness probe answers 200; fails with the container's log if it exits first. */
export async function ready(emulator: Emulator, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; ; round++) {
    try {
      const response = await fetch(`${emulator.rootUrl}/_emulator/ready`);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    if (round % 10 === 0 && (await exited(emulator.id)) !== undefined) {
      throw new Error(`the emulator exited before it was ready:\n${await emulator.logs()}`);
    }
    if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms:\n${await emulator.logs()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The exit code once the container has stopped; undefined while it runs. */
export async function exited(id: string): Promise<number | undefined> {
  const [running, code] = (await dockerOk(["inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", id])).split(" ");
  return running === "true" ? undefined : Number(code);
}

/** Waits for the container to exit on its own; its exit code. */
export async function exitCode(id: string, timeoutMs = 30_000): Promise<number> {
  return Number(await dockerOk(["wait", id], { timeoutMs }));
}

export async function health(id: string): Promise<string> {
  return dockerOk(["inspect", "--format", "{{.State.Health.Status}}", id]);
}

/** The API key the banner printed. */
export async function apiKeyOf(emulator: Emulator): Promise<string> {
  const key = /API key\s+(\S+)/.exec(await emulator.logs())?.[1];
  if (!key) throw new Error(`no API key in the banner:\n${await emulator.logs()}`);
  return key;
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
