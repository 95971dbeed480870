// The benchmark runner: `pnpm bench` from the repository root (or `pnpm --filter @htcemu/emulator bench`).
//   --quick           sizes shrunk 10-100× (CI smoke run); size-proportional targets shrink with them
//   --only <names>    run only these scenarios (comma-separated or repeated)
//   --fail-on-miss    exit 1 when a figure misses its target (by default only a scenario, or a peer, that fails to
//                     run does: CI runs `--quick` for that)
//   --write-readme    write the figures set beside a peer's into README.md's marked block
//   --readme-note <t> a sentence added to that block (e.g. "A shared machine: rerun on a quiet one.")
// One table per scenario as it finishes, then the machine and a summary of every figure that has a target and of
// everything that could not run.
import { apiThroughput } from "./api-throughput.js";
import {
  type BenchContext,
  machine,
  passes,
  ROW_HEADER,
  ROW_RIGHT,
  type Row,
  rowCells,
  type Scenario,
  type ScenarioReport,
  Scope,
  table,
} from "./common.js";
import { container } from "./container.js";
import { dockerThroughput } from "./docker-throughput.js";
import { queriesAtScale } from "./queries-at-scale.js";
import { README, readmeBlock, writeReadmeBlock } from "./readme.js";
import { simulatedMillion } from "./simulated-million.js";
import { startup } from "./startup.js";
import { storageBench } from "./storage.js";
import { submit } from "./submit.js";

const scenarios: [string, Scenario][] = [
  ["startup", startup],
  ["api-throughput", apiThroughput],
  ["submit", submit],
  ["queries-at-scale", queriesAtScale],
  ["simulated-million", simulatedMillion],
  ["docker-throughput", dockerThroughput],
  ["storage", storageBench],
  ["container", container],
];

interface Outcome {
  name: string;
  report?: ScenarioReport;
  error?: string;
  seconds: number;
}

interface Options {
  quick: boolean;
  only: string[] | undefined;
  failOnMiss: boolean;
  writeReadme: boolean;
  readmeNote: string | undefined;
}

function parseArgs(argv: string[]): Options {
  let quick = false;
  let failOnMiss = false;
  let writeReadme = false;
  let readmeNote: string | undefined;
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") continue;
    if (arg === "--quick") quick = true;
    else if (arg === "--fail-on-miss") failOnMiss = true;
    else if (arg === "--write-readme") writeReadme = true;
    else if (arg === "--readme-note" || arg.startsWith("--readme-note=")) {
      readmeNote = arg === "--readme-note" ? argv[++i] : arg.slice("--readme-note=".length);
      if (!readmeNote) usage("--readme-note needs a sentence");
    } else if (arg === "--only" || arg.startsWith("--only=")) {
      const value = arg === "--only" ? argv[++i] : arg.slice("--only=".length);
      if (!value) usage("--only needs a scenario name");
      only = [...(only ?? []), ...value.split(",").filter(Boolean)];
    } else if (arg === "--help" || arg === "-h") usage();
    else usage(`unknown argument ${arg}`);
  }
  for (const name of only ?? []) if (!scenarios.some(([n]) => n === name)) usage(`unknown scenario ${name}`);
  return { quick, only, failOnMiss, writeReadme, readmeNote };
}

function usage(error?: string): never {
  const text = [
    ...(error ? [`bench: ${error}`] : []),
    "usage: tsx bench/run.ts [--quick] [--only <name>[,<name>…]] [--fail-on-miss] [--write-readme [--readme-note <sentence>]]",
    `scenarios: ${scenarios.map(([n]) => n).join(", ")}`,
  ].join("\n");
  (error ? process.stderr : process.stdout).write(`${text}\n`);
  process.exit(error ? 2 : 0);
}

const runStarted = performance.now();
/** Progress on stderr, with the time since the run started. */
const log = (line: string) => process.stderr.write(`[bench +${((performance.now() - runStarted) / 1000).toFixed(1)} s] ${line}\n`);
const print = (text = "") => process.stdout.write(`${text}\n`);

function printMachine(quick: boolean): void {
  print(table(["machine", ""], [...machine().map((m) => [m.label, m.value]), ["mode", quick ? "quick (sizes shrunk)" : "full"]]));
}

function printScenario(outcome: Outcome): void {
  print();
  print(`## ${outcome.name} (${outcome.seconds.toFixed(1)} s)`);
  if (outcome.error) {
    print(`ERROR: ${outcome.error}`);
    return;
  }
  const report = outcome.report!;
  if (report.skipped) print(`SKIPPED: ${report.skipped}`);
  if (report.rows.length) print(table(ROW_HEADER, report.rows.map(rowCells), ROW_RIGHT));
  for (const note of report.notes) print(`  ${note}`);
}

async function main(): Promise<void> {
  const { quick, only, failOnMiss, writeReadme, readmeNote } = parseArgs(process.argv.slice(2));
  const chosen = scenarios.filter(([name]) => !only || only.includes(name));
  printMachine(quick);

  let active: { scope: Scope } | undefined;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: cleaning up`);
    void (active?.scope.close(log) ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const outcomes: Outcome[] = [];
  for (const [name, scenario] of chosen) {
    log(`${name}: starting`);
    const scope = new Scope();
    active = { scope };
    const ctx: BenchContext = { quick, log: (line) => log(`${name}: ${line}`), scope };
    const started = performance.now();
    const outcome: Outcome = { name, seconds: 0 };
    try {
      outcome.report = await scenario(ctx);
    } catch (error) {
      outcome.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
    } finally {
      await scope.close(log);
      active = undefined;
    }
    outcome.seconds = (performance.now() - started) / 1000;
    outcomes.push(outcome);
    printScenario(outcome);
  }

  const summary: string[][] = [];
  let misses = 0;
  let figures = 0;
  let failedRows = 0;
  for (const outcome of outcomes) {
    // Figures with a target, and every figure that could not be measured (a peer that did not start…).
    const rows: Row[] = outcome.report?.rows.filter((r) => r.target || r.error || r.unavailable) ?? [];
    for (const row of rows) {
      if (row.error) failedRows++;
      else if (row.target) figures++;
      if (passes(row) === false) misses++;
      const [figure, ...rest] = rowCells(row);
      summary.push([outcome.name, figure!.trim(), ...rest]);
    }
    if (outcome.error) summary.push([outcome.name, `ERROR: ${outcome.error.split("\n")[0]}`, "", "", "", "", ""]);
    else if (outcome.report?.skipped) summary.push([outcome.name, `SKIPPED: ${outcome.report.skipped}`, "", "", "", "", ""]);
  }
  print();
  print(`## summary${quick ? " (quick mode: sizes shrunk, size-proportional targets scaled)" : ""}`);
  printMachine(quick);
  print();
  print(table(["scenario", ...ROW_HEADER], summary, new Set([2, 3, 4])));
  const errors = outcomes.filter((o) => o.error).length;
  print();
  print(
    `${figures} figures with a target, ${misses} missed their target, ${errors} scenario(s) failed to run, ${failedRows} figure(s) could not be measured`,
  );

  if (writeReadme) {
    const rows = outcomes.flatMap((o) => o.report?.rows ?? []);
    if (!rows.some((r) => r.comparison)) log("--write-readme: no figure beside a peer was measured; README.md left as it is");
    else {
      await writeReadmeBlock(readmeBlock(rows, { quick, note: readmeNote, seconds: (performance.now() - runStarted) / 1000 }));
      log(`wrote the figures beside their peers into ${README}`);
    }
  }
  process.exitCode = errors > 0 || failedRows > 0 || (failOnMiss && misses > 0) ? 1 : 0;
}

main().catch((error) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
  process.exit(1);
});
