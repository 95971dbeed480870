// Scenario `docker-throughput`: the Docker executor's jobs/s against a bare `docker run` loop at the same concurrency.
// The measurement lives in bench/docker-throughput.ts (its own script); this adapter runs it and turns its output
// into rows. It understands two shapes:
//   - a module exporting `dockerThroughput(ctx: BenchContext): Promise<ScenarioReport>` (called in this process);
//   - a script without exports, run as `node --conditions=@htcemu/source --import tsx bench/docker-throughput.ts [args]`, that prints a
//     markdown table whose first column names the row (e.g. `| C | executor jobs/s | docker run jobs/s | ratio |`);
//     every numeric cell becomes a row, and a `ratio` column gets the target ≥ 0.8.
// Without a Docker engine (or without the file) the scenario is skipped with the reason.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { detectDockerEngine } from "../src/jobs/docker-engine.js";
import type { BenchContext, Row, ScenarioReport } from "./common.js";

const file = fileURLToPath(new URL("./docker-throughput.ts", import.meta.url));

/** The brief's target: the executor at least 80 % of bare `docker run` at the same concurrency. */
export const DOCKER_RATIO_TARGET = 0.8;

export async function dockerThroughput(ctx: BenchContext): Promise<ScenarioReport> {
  if (!existsSync(file)) return { rows: [], notes: [], skipped: "bench/docker-throughput.ts does not exist (yet)" };
  const engine = await detectDockerEngine();
  if (!engine.ok) return { rows: [], notes: [], skipped: `no Docker engine answers: ${engine.reason.split("\n")[0]}` };
  const source = readFileSync(file, "utf8");
  if (/^export\s+(async\s+)?function\s+dockerThroughput\b/m.test(source)) {
    const module = (await import(file)) as { dockerThroughput: (ctx: BenchContext) => Promise<ScenarioReport> };
    return module.dockerThroughput(ctx);
  }
  return runAsChild(ctx, argsFor(source, ctx.quick));
}

/** Quick mode: `--quick` if the script knows it, else smaller -n/-c/--rounds if it takes those, else its defaults. */
function argsFor(source: string, quick: boolean): string[] {
  if (!quick) return [];
  if (/\bquick\b/.test(source)) return ["--quick"];
  const takes = (name: string) => new RegExp(`\\b${name}:\\s*\\{`).test(source);
  return [...(takes("n") ? ["-n", "10"] : []), ...(takes("c") ? ["-c", "2"] : []), ...(takes("rounds") ? ["--rounds", "1"] : [])];
}

async function runAsChild(ctx: BenchContext, args: string[]): Promise<ScenarioReport> {
  const child = spawn(process.execPath, ["--conditions=@htcemu/source", "--import", "tsx", file, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  ctx.scope.defer("stop docker-throughput.ts", () => {
    process.removeListener("exit", kill);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    stderr = (stderr + text).slice(-8000);
    for (const line of text.split("\n")) if (line.trim()) ctx.log(line);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("exit", (c) => resolve(c));
    child.once("error", reject);
  });
  if (code !== 0) throw new Error(`bench/docker-throughput.ts ${args.join(" ")} exited with code ${code}:\n${stderr}${stdout}`);
  return parseOutput(stdout, args);
}

/** Rows from the script's markdown table; every other line becomes a note. */
export function parseOutput(stdout: string, args: string[]): ScenarioReport {
  const lines = stdout.trimEnd().split("\n");
  const how = /best of (\d+)/.exec(stdout)?.[0] ?? "as the script measures";
  const rows: Row[] = [];
  const notes: string[] = [`${["bench/docker-throughput.ts", ...args].join(" ")} (child process); its output:`];
  let header: string[] | undefined;
  const cells = (line: string) => line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
  for (const line of lines) {
    notes.push(`  ${line}`);
    if (!line.trim().startsWith("|")) {
      header = undefined;
      continue;
    }
    const row = cells(line);
    if (row.every((c) => /^:?-+:?$/.test(c))) continue;
    if (!header) {
      header = row;
      continue;
    }
    const label = `${header[0]}=${row[0]}`;
    for (let i = 1; i < row.length; i++) {
      const value = Number(row[i]);
      if (row[i] === "" || !Number.isFinite(value)) continue;
      const name = header[i] ?? `column ${i}`;
      const isRatio = /ratio/i.test(name);
      const unit = /jobs\/s/.exec(name)?.[0] ?? "";
      rows.push({
        figure: `${label}: ${isRatio ? "executor / docker run" : name.replace(/\s*jobs\/s/, "")}`,
        measured: value,
        unit: isRatio ? "×" : unit,
        how,
        ...(isRatio ? { target: { op: ">=" as const, value: DOCKER_RATIO_TARGET } } : {}),
      });
    }
  }
  return { rows, notes };
}
