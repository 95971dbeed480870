// Scenario `queries-at-scale`: a million queued jobs in one task (ten groups, project limit 0, file-backed), then the
// reads a dashboard makes: group summary statistics and pages of 100 jobs, first and deep (by cursor); and the
// emulator's memory with all of it stored.
import { encodeCursor } from "../src/http/pagination.js";
import {
  type BenchContext,
  formatNumber,
  type JobStatuses,
  median,
  memoryOf,
  type Row,
  type ScenarioReport,
  spawnBenchEmulator,
  submitBody,
  tempDir,
} from "./common.js";

interface Page {
  items: { jobUUID: string }[];
  next?: string;
}

export async function queriesAtScale(ctx: BenchContext): Promise<ScenarioReport> {
  const requests = 10;
  const batches = ctx.quick ? 10 : 100;
  const perRequest = batches * 1000;
  const total = requests * perRequest;
  const repeats = 20;
  const dataDir = await tempDir(ctx.scope, "queries");
  const emulator = await spawnBenchEmulator(ctx.scope, { dataDir });
  const { http } = emulator;
  const { taskPath } = await http.projectAndTask("queries", 0);

  const body = submitBody(batches);
  const parents: string[][] = [];
  const submitMs: number[] = [];
  for (let r = 0; r < requests; r++) {
    const { ms, value } = await http.timedCall<{ parentJobId: string }[]>("POST", `${taskPath}/jobs/batch?group=g${r}`, body);
    parents.push(value.map((b) => b.parentJobId));
    submitMs.push(ms);
    ctx.log(`stored ${formatNumber((r + 1) * perRequest)} jobs (request ${ms.toFixed(0)} ms)`);
  }
  const stats = await http.call<{ jobStatuses: JobStatuses }>("GET", `${taskPath}/summary-statistics`);
  if (stats.jobStatuses["SUBMITTED_TO_RESCALE"] !== total) throw new Error(`after loading: ${JSON.stringify(stats.jobStatuses)}`);
  const afterLoad = memoryOf(emulator.pid);

  // Job seqs are consecutive from 1 in a fresh database: request r, batch b, index i is seq r·perRequest + b·1000 + i + 1.
  // A deep cursor is the emulator's own cursor of the job before the one wanted (following 9,000 `next` links to
  // get there would take minutes and time the same query).
  const first = await http.call<Page>("GET", `${taskPath}/jobs?pageSize=100`);
  const nextIndex = first.next ? new URL(first.next).searchParams.get("pageIndex") : null;
  if (nextIndex !== encodeCursor(100))
    throw new Error(`the first page's next cursor is ${nextIndex}, not ${encodeCursor(100)}: seqs are not as assumed`);
  const deepRequest = Math.floor(requests * 0.9); // 90 % into the list
  const deepTask = `${taskPath}/jobs?pageSize=100&pageIndex=${encodeCursor(deepRequest * perRequest)}`;
  const deepGroupRequest = requests - 1; // the middle of the last group
  const deepGroup = `${taskPath}/jobs?group=g${deepGroupRequest}&pageSize=100&pageIndex=${encodeCursor(deepGroupRequest * perRequest + perRequest / 2)}`;
  const checkDeep = async (path: string, expected: string) => {
    const page = await http.call<Page>("GET", path);
    if (page.items.length !== 100 || page.items[0]!.jobUUID !== expected) {
      throw new Error(`${path} starts at ${page.items[0]?.jobUUID} (${page.items.length} items), expected ${expected}`);
    }
  };
  await checkDeep(deepTask, `${parents[deepRequest]![0]}:0`);
  await checkDeep(deepGroup, `${parents[deepGroupRequest]![batches / 2]}:0`);

  const time = async (path: string) => {
    for (let i = 0; i < 3; i++) await http.call("GET", path); // warm-up
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) times.push((await http.timedCall("GET", path)).ms);
    return median(times);
  };
  const how = `median of ${repeats}`;
  const rows: Row[] = [
    {
      figure: `group summary statistics (1 group of ${formatNumber(perRequest)})`,
      target: { op: "<", value: 20 },
      measured: await time(`${taskPath}/group-summary-statistics?group=g5`),
      unit: "ms",
      how,
    },
    {
      figure: "group summary statistics (all 10 groups)",
      measured: await time(`${taskPath}/group-summary-statistics`),
      unit: "ms",
      how,
    },
    { figure: "task summary statistics", measured: await time(`${taskPath}/summary-statistics`), unit: "ms", how },
    {
      figure: "page of 100 jobs: first page of the task",
      target: { op: "<", value: 20 },
      measured: await time(`${taskPath}/jobs?pageSize=100`),
      unit: "ms",
      how,
    },
    {
      figure: `page of 100 jobs: deep (after job ${formatNumber(deepRequest * perRequest)}) by cursor`,
      target: { op: "<", value: 20 },
      measured: await time(deepTask),
      unit: "ms",
      how,
    },
    { figure: "page of 100 jobs: deep in one group by cursor", measured: await time(deepGroup), unit: "ms", how },
    {
      figure: "page of 100 jobs, SIMPLE view: first page",
      measured: await time(`${taskPath}/jobs?pageSize=100&viewType=SIMPLE`),
      unit: "ms",
      how,
    },
  ];
  const afterQueries = memoryOf(emulator.pid);
  if (afterLoad && afterQueries) {
    rows.push(
      {
        figure: `emulator RSS with ${formatNumber(total)} jobs stored`,
        target: { op: "<", value: 300 },
        measured: Math.max(afterLoad.rssMiB, afterQueries.rssMiB),
        unit: "MiB",
        how: "max of after-load and after-queries VmRSS",
      },
      { figure: "  emulator peak RSS (VmHWM) during the scenario", measured: afterQueries.peakMiB, unit: "MiB", how: "one run" },
    );
  }

  // A restart on the same data dir: the scheduler rebuilds its queues from every unfinished job.
  await emulator.process.stop();
  const restartStarted = performance.now();
  const restarted = await spawnBenchEmulator(ctx.scope, { dataDir });
  const restartMs = performance.now() - restartStarted;
  const restartedStats = await restarted.http.call<{ jobStatuses: JobStatuses }>("GET", `${taskPath}/summary-statistics`);
  if (restartedStats.jobStatuses["SUBMITTED_TO_RESCALE"] !== total)
    throw new Error(`after restart: ${JSON.stringify(restartedStats.jobStatuses)}`);
  rows.push({
    figure: `restart with ${formatNumber(total)} queued jobs: spawn → first token`,
    measured: restartMs,
    unit: "ms",
    how: "one run",
  });
  const afterRestart = memoryOf(restarted.pid);
  if (afterRestart) rows.push({ figure: "  emulator RSS after the restart", measured: afterRestart.rssMiB, unit: "MiB", how: "one run" });
  return {
    rows,
    notes: [
      `${formatNumber(total)} jobs: ${requests} requests of ${batches} × 1000 into one task, groups g0…g${requests - 1}, project limit 0, file-backed data dir`,
      `loading requests (ms): ${submitMs.map((t) => t.toFixed(0)).join(", ")}`,
      afterLoad && afterQueries
        ? `VmRSS after load ${afterLoad.rssMiB.toFixed(0)} MiB, after queries ${afterQueries.rssMiB.toFixed(0)} MiB (separate emulator process, /proc/${emulator.pid}/status)`
        : "memory: /proc not readable here",
      "deep pages verified: the first job on the page is the one after the cursor",
      ...(ctx.quick ? ["quick mode: a tenth of the jobs"] : []),
    ],
  };
}
