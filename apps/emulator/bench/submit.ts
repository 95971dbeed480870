// Scenario `submit`: one request of 100 batches × 1000 jobs to a file-backed emulator whose project limit is 0 vCPUs
// (the scheduler admits nothing, so only the submission itself is timed).
import {
  type BenchContext,
  formatNumber,
  type JobStatuses,
  median,
  type ScenarioReport,
  spawnBenchEmulator,
  submitBody,
  tempDir,
} from "./common.js";

export async function submit(ctx: BenchContext): Promise<ScenarioReport> {
  const batches = ctx.quick ? 10 : 100;
  const jobs = batches * 1000;
  const repeats = 3;
  const dataDir = await tempDir(ctx.scope, "submit");
  const emulator = await spawnBenchEmulator(ctx.scope, { dataDir });
  const body = submitBody(batches);

  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const { taskPath } = await emulator.http.projectAndTask(`submit-${i}`, 0);
    const { ms, value } = await emulator.http.timedCall<unknown[]>("POST", `${taskPath}/jobs/batch?group=bench`, body);
    if (!Array.isArray(value) || value.length !== batches) throw new Error(`submit answered ${JSON.stringify(value).slice(0, 200)}`);
    const stats = await emulator.http.call<{ jobStatuses: JobStatuses }>("GET", `${taskPath}/summary-statistics`);
    if (stats.jobStatuses["SUBMITTED_TO_RESCALE"] !== jobs) throw new Error(`after submit: ${JSON.stringify(stats.jobStatuses)}`);
    ctx.log(`submit ${i + 1}/${repeats}: ${jobs} jobs in ${ms.toFixed(0)} ms`);
    times.push(ms);
  }

  // The target is one second for 100,000 jobs; quick mode submits a tenth and expects a tenth of the time.
  const targetMs = (1000 * jobs) / 100_000;
  const mid = median(times);
  return {
    rows: [
      {
        figure: `POST jobs/batch: ${batches} batches × 1000 jobs (${formatNumber(jobs)} jobs), one request`,
        target: { op: "<", value: targetMs },
        measured: mid,
        unit: "ms",
        how: `median of ${repeats} (each a new task)`,
      },
      { figure: "  best of those", measured: Math.min(...times), unit: "ms", how: `best of ${repeats}` },
      { figure: "  submission rate (median request)", measured: (jobs / mid) * 1000, unit: "jobs/s", how: "derived" },
    ],
    notes: [
      `file-backed data dir (WAL), project vCPU limit 0, group "bench"; request times (ms): ${times.map((t) => t.toFixed(0)).join(", ")}`,
      "each request verified: the task summary shows every job SUBMITTED_TO_RESCALE",
      ...(ctx.quick ? ["quick mode: a tenth of the jobs, target scaled to a tenth"] : []),
    ],
  };
}
