// Helpers for integration tests: run the emulator as a separate process (as users run it, so nothing of the
// test runner leaks into it), and a fetch that checks every exchange against the contract.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Contract } from "./contract.js";
import type { Coverage } from "./coverage.js";
import { bodyValue, formatViolations, type Violation } from "./validate.js";

/** The emulator's command line entry, run from source with tsx. */
export const emulatorCliPath = fileURLToPath(new URL("../../../apps/emulator/src/cli.ts", import.meta.url));

export interface SpawnEmulatorOptions {
  /** Extra CLI flags. `--port 0` and `--in-memory` are added unless `--port` / `--data-dir` are given. */
  args?: readonly string[];
  /** Variables added to (or, when undefined, removed from) the inherited environment. */
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  /** How long to wait for the ready lines (default 50 s). */
  timeoutMs?: number;
}

export interface SpawnedEmulator {
  /** `http://127.0.0.1:<port>/api/v1` */
  readonly baseUrl: string;
  /** `http://127.0.0.1:<port>`, for paths outside the API prefix (`/_emulator/…`, `/.well-known/…`). */
  readonly rootUrl: string;
  readonly apiKey: string;
  readonly process: ChildProcess;
  /** What the process wrote so far (the last 64 KiB of each stream), for failure messages. */
  output(): { stdout: string; stderr: string };
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const OUTPUT_LIMIT = 64 * 1024;

export async function spawnEmulator(options: SpawnEmulatorOptions = {}): Promise<SpawnedEmulator> {
  const args = [...(options.args ?? [])];
  const defaults = [
    ...(args.includes("--port") ? [] : ["--port", "0"]),
    ...(args.includes("--in-memory") || args.includes("--data-dir") ? [] : ["--in-memory"]),
  ];
  const env: Record<string, string | undefined> = { ...process.env };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  // The `@htcemu/source` condition loads the workspace packages it imports from their sources too (no build).
  const child = spawn(process.execPath, ["--conditions=@htcemu/source", "--import", tsxLoader(), emulatorCliPath, ...defaults, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "" };
  const keep = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
    out[stream] = (out[stream] + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
  };
  child.stdout!.on("data", keep("stdout"));
  child.stderr!.on("data", keep("stderr"));
  // Never leave an emulator behind when the test process goes away without calling stop().
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      process.removeListener("exit", killOnExit);
      resolve({ code, signal });
    });
  });

  // Generous: on a loaded 2-core CI machine with a cold tsx cache, start-up alone has taken more than 20 s.
  const timeoutMs = options.timeoutMs ?? 50_000;
  const ready = await new Promise<{ baseUrl: string; apiKey: string }>((resolve, reject) => {
    const fail = (reason: string) => {
      cleanup();
      reject(new Error(`the emulator did not start: ${reason}\n--- stderr ---\n${out.stderr}\n--- stdout ---\n${out.stdout}`));
    };
    const check = () => {
      const baseUrl = /base URL\s+(\S+)/.exec(out.stdout)?.[1];
      const apiKey = /API key\s+(\S+)/.exec(out.stdout)?.[1];
      if (baseUrl && apiKey) {
        cleanup();
        resolve({ baseUrl, apiKey });
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => fail(`it exited with ${signal ?? `code ${code}`}`);
    const onError = (error: Error) => fail(error.message);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(`no ready lines after ${timeoutMs} ms`);
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off("data", check);
      child.removeListener("exit", onExit);
      child.removeListener("error", onError);
    };
    // Registered after `keep`, so `out.stdout` already holds the chunk when `check` runs.
    child.stdout!.on("data", check);
    child.once("exit", onExit);
    child.once("error", onError);
  });

  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  return {
    baseUrl: ready.baseUrl,
    rootUrl: ready.baseUrl.replace(/\/api\/v1\/?$/, ""),
    apiKey: ready.apiKey,
    process: child,
    output: () => ({ ...out }),
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
          try {
            return await exited;
          } finally {
            clearTimeout(timer);
          }
        }
        return exited;
      })();
      return stopping;
    },
  };
}

/**
 * `--import tsx` resolves from the working directory, which may not see tsx; resolve it from the emulator's
 * package (its dependency) to an absolute URL instead.
 */
function tsxLoader(): string {
  try {
    const require = createRequire(emulatorCliPath);
    const manifestPath = require.resolve("tsx/package.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as { exports?: Record<string, unknown> };
    const entry = manifest.exports?.["."];
    if (typeof entry === "string") return pathToFileURL(join(dirname(manifestPath), entry)).href;
  } catch {
    // fall through to the bare name
  }
  return "tsx";
}

export interface ViolationReport {
  readonly phase: "request" | "response";
  readonly method: string;
  readonly url: string;
  readonly operationId?: string;
  readonly status?: number;
  readonly violations: readonly Violation[];
}

export class ContractViolationError extends Error {
  constructor(readonly report: ViolationReport) {
    const where = `${report.method} ${report.url}${report.status === undefined ? "" : ` → ${report.status}`}`;
    const op = report.operationId ? ` (${report.operationId})` : "";
    super(`contract violation in the ${report.phase} of ${where}${op}:\n${formatViolations(report.violations)}`);
    this.name = "ContractViolationError";
  }
}

export interface ValidatingFetchOptions {
  /** Called for each exchange with violations. Without it, the fetch throws a ContractViolationError. */
  onViolation?: (report: ViolationReport) => void;
  /** The fetch to wrap (default: globalThis.fetch). */
  fetch?: (request: Request) => Promise<Response>;
  /** Records every operation that got a response. */
  coverage?: Coverage;
  /** Check requests too (default true); turn off to send deliberately invalid requests. */
  validateRequests?: boolean;
  /**
   * Hold responses to the emulator's guarantee as well: every member a response object declares is present
   * (see ResponseValidationOptions). For the emulator, not for production.
   */
  allDeclaredPresent?: boolean;
}

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * A fetch that validates each request before sending it and each response before handing it back.
 * Requests whose path is outside the contract (neither under `/api/v1` nor matching a template, e.g.
 * `/_emulator/…`) pass through unchecked. A request violation is raised before anything is sent.
 */
export function validatingFetch(contract: Contract, options: ValidatingFetchOptions = {}): FetchLike {
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (!contract.covers(url.pathname)) return send(request);
    const method = request.method.toUpperCase();
    const operationId = contract.match(method, url.pathname)?.operation.operationId;
    const report = (phase: ViolationReport["phase"], violations: Violation[], status?: number) => {
      if (violations.length === 0) return;
      const entry: ViolationReport = {
        phase,
        method,
        url: request.url,
        violations,
        ...(operationId ? { operationId } : {}),
        ...(status === undefined ? {} : { status }),
      };
      if (options.onViolation) options.onViolation(entry);
      else throw new ContractViolationError(entry);
    };

    if (options.validateRequests !== false) {
      const body = bodyValue(await request.clone().text(), request.headers.get("content-type"));
      report(
        "request",
        "error" in body
          ? [body.error]
          : contract.validateRequest({
              method,
              path: url.pathname,
              query: url.searchParams,
              headers: request.headers,
              body: body.value,
            }),
      );
    }
    const response = await send(request);
    if (!operationId) return response;
    options.coverage?.record(operationId, response.status);
    const contentType = response.headers.get("content-type");
    // Clone: the caller still gets an unread body.
    const body = method === "HEAD" ? { value: undefined } : bodyValue(await response.clone().text(), contentType);
    report(
      "response",
      "error" in body
        ? [body.error]
        : contract.validateResponse(operationId, response.status, contentType, body.value, {
            allDeclaredPresent: options.allDeclaredPresent === true,
          }),
      response.status,
    );
    return response;
  };
}
