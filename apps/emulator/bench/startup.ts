// Scenario `startup`: startEmulator({ inMemory, simulated }) to the first answered request (the key → token exchange),
// in this process; and, for information, the same through the command line as a separate process.
import { startEmulator } from "../src/emulator.js";
import { type BenchContext, bearerToken, median, type ScenarioReport, Scope, spawnBenchEmulator } from "./common.js";
import { missingBuilds, publishedStartup } from "./published.js";

export async function startup(ctx: BenchContext): Promise<ScenarioReport> {
  const runs = ctx.quick ? 5 : 10;
  const inProcess: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const emulator = await startEmulator({ inMemory: true, executor: "simulated" });
    ctx.scope.defer("stop the in-process emulator", () => emulator.stop());
    try {
      await bearerToken(emulator.baseUrl, emulator.apiKey);
      inProcess.push(performance.now() - started);
    } finally {
      await emulator.stop();
    }
  }

  // The command line from the sources: process spawn, tsx compiling them, start, first request.
  const cliRuns = ctx.quick ? 1 : 3;
  const cli: number[] = [];
  for (let i = 0; i < cliRuns; i++) {
    const scope = new Scope();
    ctx.scope.defer("stop the CLI emulator", () => scope.close(ctx.log));
    try {
      const started = performance.now();
      await spawnBenchEmulator(scope); // resolves after its first token exchange
      cli.push(performance.now() - started);
    } finally {
      await scope.close(ctx.log);
    }
  }

  // The published files (build/), as users run them.
  const missing = missingBuilds();
  const published = missing.length
    ? { rows: [], notes: [`published rows skipped: run \`pnpm build\` first (missing ${missing.join(", ")})`] }
    : await publishedStartup(ctx.quick);

  return {
    rows: [
      {
        figure: "startEmulator() → first answered GET /auth/token",
        target: { op: "<", value: 300 },
        measured: median(inProcess),
        unit: "ms",
        how: `median of ${runs}`,
      },
      { figure: "  first of those (cold: first start in this process)", measured: inProcess[0]!, unit: "ms", how: "one run" },
      {
        figure: "CLI process (sources, tsx) spawn → first answered GET /auth/token",
        measured: median(cli),
        unit: "ms",
        how: `median of ${cliRuns}`,
      },
      ...published.rows,
    ],
    notes: [
      ...published.notes,
      `in-process runs (ms): ${inProcess.map((ms) => ms.toFixed(1)).join(", ")}`,
      `CLI runs (ms, node --import tsx src/cli.ts --in-memory): ${cli.map((ms) => ms.toFixed(0)).join(", ")}`,
    ],
  };
}
