// Scenario `simulated-million`: a million jobs through the whole lifecycle with the simulated executor (no waiting
// in the profile, one log line each), file-backed: from the first submit until the task summary counts every job
// SUCCEEDED or FAILED.
import {
  type BenchContext,
  formatNumber,
  type JobStatuses,
  median,
  memoryOf,
  type Row,
  type ScenarioReport,
  sleep,
  spawnBenchEmulator,
  submitBody,
  tempDir,
  terminal,
} from "./common.js";

export const fastProfile = { duration: { distribution: "fixed", minMs: 0 }, startDelayMs: [0, 0], logLines: 1 };

export async function simulatedMillion(ctx: BenchContext): Promise<ScenarioReport> {
  const requests = 10;
  const batches = ctx.quick ? 5 : 100;
  const total = requests * batches * 1000;
  const targetMs = (60_000 * total) / 1_000_000;
  const timeoutMs = Math.max(30_000, 10 * targetMs);
  const pollMs = ctx.quick ? 100 : 500;
  const dataDir = await tempDir(ctx.scope, "simulated");
  const emulator = await spawnBenchEmulator(ctx.scope, { dataDir, simulation: fastProfile });
  const { http } = emulator;
  const { taskPath } = await http.projectAndTask("simulated");
  const body = submitBody(batches);

  const started = performance.now();
  const submitMs: number[] = [];
  for (let r = 0; r < requests; r++) {
    submitMs.push((await http.timedCall("POST", `${taskPath}/jobs/batch`, body)).ms);
  }
  const submitted = performance.now() - started;
  ctx.log(
    `submitted ${formatNumber(total)} jobs in ${submitted.toFixed(0)} ms (requests: ${submitMs.map((t) => t.toFixed(0)).join(", ")} ms)`,
  );

  const pollLatency: number[] = [];
  let statuses: JobStatuses = {};
  let done = 0;
  let lastLog = 0;
  for (;;) {
    const { ms, value } = await http.timedCall<{ jobStatuses: JobStatuses }>("GET", `${taskPath}/summary-statistics`);
    pollLatency.push(ms);
    statuses = value.jobStatuses;
    done = terminal(statuses);
    const elapsed = performance.now() - started;
    if (done >= total || elapsed > timeoutMs) break;
    if (elapsed - lastLog > 5000) {
      lastLog = elapsed;
      ctx.log(
        `${(elapsed / 1000).toFixed(0)} s: ${formatNumber(done)} of ${formatNumber(total)} jobs ended (${formatNumber((done / elapsed) * 1000)} jobs/s)`,
      );
    }
    await sleep(pollMs);
  }
  const elapsed = performance.now() - started;
  const finished = done >= total;
  const memory = memoryOf(emulator.pid);
  // When the run timed out, the time is extrapolated from the rate so far (and says so).
  const measured = finished ? elapsed : (elapsed * total) / Math.max(1, done);

  const rows: Row[] = [
    {
      figure: `${formatNumber(total)} jobs: first submit → all SUCCEEDED/FAILED`,
      target: { op: "<", value: targetMs / 1000 },
      measured: measured / 1000,
      unit: "s",
      how: finished
        ? `one run, polled every ${pollMs} ms`
        : `EXTRAPOLATED: timed out after ${(elapsed / 1000).toFixed(0)} s with ${formatNumber(done)} done`,
    },
    { figure: "  end-to-end rate", measured: (total / measured) * 1000, unit: "jobs/s", how: "derived" },
    { figure: "  submission (10 requests, scheduler running)", measured: submitted / 1000, unit: "s", how: "one run" },
    {
      figure: "  summary-statistics latency while running",
      measured: median(pollLatency),
      unit: "ms",
      how: `median of ${pollLatency.length} polls`,
    },
    {
      figure: "  summary-statistics latency while running, worst",
      measured: Math.max(...pollLatency),
      unit: "ms",
      how: `max of ${pollLatency.length} polls`,
    },
  ];
  if (memory) rows.push({ figure: "  emulator peak RSS (VmHWM)", measured: memory.peakMiB, unit: "MiB", how: "one run" });
  return {
    rows,
    notes: [
      `profile ${JSON.stringify(fastProfile)}, file-backed data dir, no limits; final statuses ${JSON.stringify(statuses)}`,
      `submit requests under load (ms): ${submitMs.map((t) => t.toFixed(0)).join(", ")}`,
      ...(ctx.quick ? [`quick mode: ${formatNumber(total)} jobs, target scaled to ${(targetMs / 1000).toFixed(1)} s`] : []),
    ],
  };
}
