// Shared pieces of the benchmark: result rows and their verdicts, clean-up scopes, statistics, the emulator as a
// separate process (as users run it), plain HTTP calls and the machine's description.
import { mkdtemp, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { type SpawnedEmulator, spawnEmulator } from "@htcemu/contract/testing";

/** A target: `"<"` means lower is better (ratio target/measured), `">="` higher is better (ratio measured/target). */
export interface Target {
  op: "<" | ">=";
  value: number;
}

export interface Row {
  figure: string;
  /** Absent: reported for information, no verdict. */
  target?: Target;
  measured: number;
  unit: string;
  /** How the number was obtained: "median of 10", "best of 3", "one run"… */
  how: string;
  /** The figure could not be measured because something failed (a peer that did not start, a run that broke): why. */
  error?: string;
  /** The figure cannot be measured on this machine, and that is no failure (a client that is not installed): why. */
  unavailable?: string;
  /** The emulator's figure set beside a peer's: these rows make the README's table (`--write-readme`). */
  comparison?: Comparison;
}

/** One line of the README's table: the emulator and a peer on the same work, in the same run. */
export interface Comparison {
  /** The work, e.g. "GET /htc/projects/{id}, cached token, 50 connections". */
  what: string;
  /** The emulator's figure, formatted ("16,512 req/s, p99 7 ms"). */
  emulator: string;
  /** The peer and its version. */
  peer: string;
  /** The peer's figure, formatted; or why there is none ("could not start: …"). */
  peerFigure: string;
  /** emulator ÷ peer on the figure that matters (higher is better for the emulator); absent when the peer did not run. */
  ratio?: number;
  /** The issue's target for that ratio, formatted (">= 0.50×"), if it sets one. */
  target?: string;
}

export interface ScenarioReport {
  rows: Row[];
  /** Free-form lines printed under the scenario's table (sizes, caveats, what was checked). */
  notes: string[];
  /** Set when the scenario could not run here (e.g. no Docker engine); rows may be empty. */
  skipped?: string;
}

export interface BenchContext {
  quick: boolean;
  /** Progress lines (stderr), so long phases show they are alive. */
  log(line: string): void;
  /** Clean-up for this scenario: runs in reverse order when the scenario ends, fails or is interrupted. */
  scope: Scope;
}

export type Scenario = (ctx: BenchContext) => Promise<ScenarioReport>;

export function ratioOf(row: Row): number | undefined {
  if (!row.target || row.error || row.unavailable) return undefined;
  if (row.target.op === "<") return row.measured > 0 ? row.target.value / row.measured : Number.POSITIVE_INFINITY;
  return row.measured / row.target.value;
}

export function passes(row: Row): boolean | undefined {
  if (!row.target || row.error || row.unavailable) return undefined;
  return row.target.op === "<" ? row.measured < row.target.value : row.measured >= row.target.value;
}

/**
 * Clean-up actions, run last-registered first, each once. close() is single-flight: a second caller (say, a signal
 * handler while the scenario's own `finally` is closing) waits for the same run instead of racing it.
 */
export class Scope {
  private readonly actions: { label: string; run: () => Promise<void> | void }[] = [];
  private closing: Promise<void> = Promise.resolve();

  defer(label: string, run: () => Promise<void> | void): void {
    this.actions.push({ label, run });
  }

  close(log: (line: string) => void = () => {}): Promise<void> {
    this.closing = this.closing.then(async () => {
      while (this.actions.length) {
        const action = this.actions.pop()!;
        try {
          await action.run();
        } catch (error) {
          log(`clean-up "${action.label}" failed: ${(error as Error).message}`);
        }
      }
    });
    return this.closing;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics and timing

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function best(values: readonly number[], lowerIsBetter = true): number {
  return lowerIsBetter ? Math.min(...values) : Math.max(...values);
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------------
// Temporary folders and the emulator as a separate process

export async function tempDir(scope: Scope, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(os.tmpdir(), `htcemu-bench-${prefix}-`));
  scope.defer(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface BenchEmulator {
  process: SpawnedEmulator;
  baseUrl: string;
  apiKey: string;
  pid: number;
  /** A bearer token of the default user. */
  token: string;
  http: Http;
}

export interface SpawnOptions {
  /** File-backed state in this folder; in memory when absent. */
  dataDir?: string;
  simulation?: Record<string, unknown>;
  args?: string[];
}

/**
 * `node --import tsx src/cli.ts --port 0 --executor simulated …`, ready once it printed its base URL and API key;
 * stopped (SIGTERM, then SIGKILL) by the scope.
 */
export async function spawnBenchEmulator(scope: Scope, options: SpawnOptions = {}): Promise<BenchEmulator> {
  const args = ["--port", "0", "--executor", "simulated"];
  args.push(...(options.dataDir ? ["--data-dir", options.dataDir] : ["--in-memory"]));
  if (options.simulation) args.push("--simulation", JSON.stringify(options.simulation));
  args.push(...(options.args ?? []));
  const child = await spawnEmulator({ args, timeoutMs: 60_000 });
  scope.defer("stop the emulator", async () => {
    await child.stop();
  });
  const pid = child.process.pid;
  if (pid === undefined) throw new Error("the emulator process has no pid");
  const token = await bearerToken(child.baseUrl, child.apiKey);
  return { process: child, baseUrl: child.baseUrl, apiKey: child.apiKey, pid, token, http: new Http(child.baseUrl, token) };
}

export async function bearerToken(baseUrl: string, apiKey: string): Promise<string> {
  const response = await fetch(`${baseUrl}/auth/token`, { headers: { Authorization: `Token ${apiKey}` } });
  const body = (await response.json()) as { tokenValue?: string };
  if (response.status !== 200 || !body.tokenValue) throw new Error(`token exchange failed: ${response.status} ${JSON.stringify(body)}`);
  return body.tokenValue;
}

/** Resident and peak resident memory of a process, in MiB (Linux /proc). */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Plain HTTP: what the benchmark times is the emulator, not a client library's validation.

export class HttpError extends Error {}

export class Http {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 300) throw new HttpError(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Times one request, from sending it to the last byte of the answer (parsed after the clock stops). */
  async timedCall<T = unknown>(method: string, path: string, body?: unknown): Promise<{ ms: number; value: T }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const started = performance.now();
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(payload === undefined ? {} : { "content-type": "application/json" }) },
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await response.text();
    const ms = performance.now() - started;
    if (response.status >= 300) throw new HttpError(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return { ms, value: (text ? JSON.parse(text) : undefined) as T };
  }

  /** A project and a task in it; optionally a project vCPU limit (0 keeps every job queued). */
  async projectAndTask(name: string, vcpuLimit?: number): Promise<{ projectId: string; taskId: string; taskPath: string }> {
    const project = await this.call<{ projectId: string }>("POST", "/htc/projects", { projectName: name, projectDescription: "benchmark" });
    if (vcpuLimit !== undefined) {
      await this.call("POST", `/htc/projects/${project.projectId}/limits`, { vCPUs: vcpuLimit, modifierRole: "PROJECT_ADMIN" });
    }
    const task = await this.call<{ taskId: string }>("POST", `/htc/projects/${project.projectId}/tasks`, {
      taskName: name,
      taskDescription: "benchmark",
    });
    return { projectId: project.projectId, taskId: task.taskId, taskPath: `/htc/projects/${project.projectId}/tasks/${task.taskId}` };
  }
}

export const benchDefinition = { imageName: "htcemu/shell:1", commands: ["sh", "-c", "echo hi"] };

/** The body of one submit request: `batches` batches of `batchSize` jobs. */
export function submitBody(batches: number, batchSize = 1000): unknown[] {
  return Array.from({ length: batches }, () => ({ batchSize, htcJobDefinition: benchDefinition }));
}

export type JobStatuses = Record<string, number>;

export function terminal(statuses: JobStatuses): number {
  return (statuses["SUCCEEDED"] ?? 0) + (statuses["FAILED"] ?? 0);
}

// ---------------------------------------------------------------------------------------------------------------
// Output

export function machine(): { label: string; value: string }[] {
  const cpus = os.cpus();
  return [
    { label: "host", value: os.hostname() },
    { label: "CPU", value: cpus[0]?.model.trim() ?? "unknown" },
    { label: "cores", value: `${cpus.length} (available parallelism ${os.availableParallelism()})` },
    {
      label: "memory",
      value: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(os.freemem() / 2 ** 30).toFixed(1)} GiB free at start`,
    },
    { label: "node", value: process.version },
    { label: "os", value: `${os.type()} ${os.release()} ${os.arch()}` },
    {
      label: "load average",
      value: os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(" "),
    },
    { label: "date", value: new Date().toISOString() },
  ];
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function table(header: string[], rows: string[][], rightAligned: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (rightAligned.has(i) ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

export function rowCells(row: Row): string[] {
  const target = row.target ? `${row.target.op} ${formatNumber(row.target.value)} ${row.unit}` : "(info)";
  if (row.error) return [row.figure, target, "DID NOT RUN", "", "ERROR", row.error.split("\n")[0]!];
  if (row.unavailable) return [row.figure, target, "n/a", "", "skipped", row.unavailable];
  const ratio = ratioOf(row);
  const verdict = passes(row);
  return [
    row.figure,
    target,
    `${formatNumber(row.measured)} ${row.unit}`,
    ratio === undefined ? "" : `${ratio.toFixed(2)}×`,
    verdict === undefined ? "" : verdict ? "pass" : "FAIL",
    row.how,
  ];
}

export const ROW_HEADER = ["figure", "target", "measured", "ratio", "verdict", "how"];
export const ROW_RIGHT = new Set([1, 2, 3]);
