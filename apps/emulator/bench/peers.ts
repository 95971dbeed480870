// The peers the emulator is measured against, as separate processes on 127.0.0.1: started and stopped inside the
// bench, each with its version. A peer that cannot start is an answer too (`attempt` keeps the reason), so the
// other rows still get measured and the table says which peer is missing and why.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Scope } from "./common.js";

/** The emulator package: its node_modules holds the peers (devDependencies) and the stack (dependencies). */
export const packageDir = fileURLToPath(new URL("..", import.meta.url));
export const repositoryRoot = join(packageDir, "..", "..");

export interface Peer {
  /** e.g. "Prism 5.14.2". */
  label: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  pid: number;
  /** The command line it was started with, for the notes. */
  command: string;
  /** Whatever it wrote so far (its log file), for failure messages. */
  output(): string;
}

export interface PeerSpec {
  label: string;
  executable: string;
  args: string[];
  port: number;
  /** Where its stdout and stderr go: a peer that logs every request must not slow the load generator down. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Asked until it answers anything (any status): the peer is ready. Default "/". */
  probePath?: string;
  /** Default 60 s: Prism parses the whole contract before it listens, slowly on a loaded machine. */
  startTimeoutMs?: number;
}

export type Attempt<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Runs `fn`; a failure becomes its reason (first lines) instead of an exception. */
export async function attempt<T>(fn: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: message.split("\n").slice(0, 4).join(" / ") };
  }
}

/** A port nobody listens on right now (the peer binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** A package's manifest as installed for the emulator package (pnpm links direct dependencies there). */
export function packageManifest(name: string): { version: string; bin?: string | Record<string, string> } {
  return JSON.parse(readFileSync(join(packageDir, "node_modules", name, "package.json"), "utf8")) as { version: string };
}

export function packageVersion(name: string): string {
  return packageManifest(name).version;
}

/** The file behind a package's command (`bin`), run with this Node. */
export function packageBin(name: string, command?: string): string {
  const { bin } = packageManifest(name);
  const file = typeof bin === "string" ? bin : bin?.[command ?? Object.keys(bin ?? {})[0] ?? ""];
  if (!file) throw new Error(`${name} has no command ${command ?? ""}`);
  return join(packageDir, "node_modules", name, file);
}

/** `--import tsx` by absolute URL: the peers written in TypeScript run with the loader the emulator runs with. */
export const tsxLoader = import.meta.resolve("tsx");

/** Starts the peer and waits until it answers HTTP; stopped (SIGTERM, then SIGKILL) by the scope. */
export async function startPeer(scope: Scope, spec: PeerSpec): Promise<Peer> {
  const log = openSync(spec.logFile, "w");
  let child: ChildProcess;
  try {
    child = spawn(spec.executable, spec.args, { cwd: spec.cwd ?? packageDir, env: spec.env ?? process.env, stdio: ["ignore", log, log] });
  } finally {
    closeSync(log);
  }
  const output = () => {
    try {
      return readFileSync(spec.logFile, "utf8").slice(-4000);
    } catch {
      return "";
    }
  };
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? `code ${code}`));
    child.once("error", (error) => resolve(error.message));
  });
  scope.defer(`stop ${spec.label}`, async () => {
    process.removeListener("exit", kill);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(kill, 5000);
    await exited;
    clearTimeout(timer);
  });
  const url = `http://127.0.0.1:${spec.port}`;
  const command = [spec.executable, ...spec.args].map((a) => (a === tsxLoader ? "tsx" : a.replace(repositoryRoot, "."))).join(" ");
  let gone: string | undefined;
  void exited.then((how) => {
    gone = how;
  });
  const deadline = performance.now() + (spec.startTimeoutMs ?? 60_000);
  for (;;) {
    if (gone !== undefined) throw new Error(`${spec.label} exited (${gone}) before it answered: ${gist(output())}`);
    if (performance.now() > deadline)
      throw new Error(`${spec.label} did not answer on ${url} within ${spec.startTimeoutMs ?? 60_000} ms: ${gist(output())}`);
    try {
      await fetch(`${url}${spec.probePath ?? "/"}`, { signal: AbortSignal.timeout(2000) }).then((r) => r.arrayBuffer());
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { label: spec.label, url, pid: child.pid!, command, output };
}

/** What a failed process said that matters: its first error line and the next, else its last lines. */
export function gist(output: string): string {
  const lines = output
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const at = lines.findIndex((l) => /\b(error|fatal|EADDRINUSE|ENOENT)\b/i.test(l));
  const picked = at >= 0 ? lines.slice(at, at + 2) : lines.slice(-3);
  return picked.join(" / ").slice(0, 400) || "(no output)";
}

/** First line of `<command> --version` (stdout or stderr), or undefined when the command is missing or fails. */
export async function commandVersion(command: string, args = ["--version"]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { timeout: 30_000 });
    return (stdout.trim() || stderr.trim()).split("\n")[0];
  } catch {
    return undefined;
  }
}
