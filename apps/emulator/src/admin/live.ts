// Live feeds for the dashboard (tag Live of admin.yaml), as server-sent events: a task's job status counts over
// time, and a job's log lines as they are written. Both read what the database already keeps cheaply (the
// trigger-maintained job_counts, the job_logs index), so a feed costs a couple of small queries per interval.
import { streamSSE } from "hono/streaming";
import { isoTime } from "../clock.js";
import type { adminComponents } from "../contract-types.js";
import type { Core } from "../core.js";
import { notFound } from "../errors.js";
import type { AppContext } from "../http/env.js";
import type { AdminApi } from "../http/router.js";
import { isTerminal, statusNames } from "../jobs/status.js";
import { taskStatisticsQuery } from "../schemas/admin.js";
import { keepAlive, SSE_HEARTBEAT_MS } from "./sse.js";

type Sample = adminComponents["schemas"]["TaskStatisticsSample"];
type Counts = adminComponents["schemas"]["StatusCounts"];

/** Samples kept per task (12 minutes at one a second). */
const HISTORY = 720;
/** A sample is kept at least this often even when nothing changed, so a chart's time axis moves on. */
const STEADY_SAMPLE_MS = 10_000;
/** How long a task's samples are kept after its last follower left. */
const LINGER_MS = 10 * 60_000;
/** Groups a sample lists at most (the HTC API's group statistics page through all of them). */
const MAX_GROUPS = 200;
/** How often a followed job's new log lines are looked for. */
const LOG_POLL_MS = 250;

function countsOf(values: number[]): Counts {
  return Object.fromEntries(statusNames.map((name, i) => [name, values[i] ?? 0])) as Counts;
}

/** Reads one task's counts on an interval while someone follows it, and keeps the recent samples. */
class TaskSampler {
  readonly history: Sample[] = [];
  private readonly listeners = new Set<(sample: Sample) => void>();
  private timer: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  private lastKey = "";
  private lastKept = 0;

  constructor(
    private readonly read: () => Sample,
    private readonly intervalMs: number,
    private readonly onIdle: () => void,
  ) {}

  /** Starts sampling if needed; the caller gets the samples so far, then every new one. */
  subscribe(listener: (sample: Sample) => void): { history: Sample[]; unsubscribe: () => void } {
    clearTimeout(this.idle);
    if (!this.timer) {
      this.tick();
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    const history = [...this.history];
    this.listeners.add(listener);
    return {
      history,
      unsubscribe: () => {
        this.listeners.delete(listener);
        if (this.listeners.size > 0) return;
        clearInterval(this.timer);
        this.timer = undefined;
        this.idle = setTimeout(this.onIdle, LINGER_MS);
        this.idle.unref();
      },
    };
  }

  private tick(): void {
    let sample: Sample;
    try {
      sample = this.read();
    } catch {
      // The database closed under us (the emulator is stopping): stop reading.
      clearInterval(this.timer);
      return;
    }
    const key = JSON.stringify([sample.total, sample.groups]);
    const now = Date.now();
    if (key === this.lastKey && now - this.lastKept < STEADY_SAMPLE_MS) return;
    this.lastKey = key;
    this.lastKept = now;
    this.history.push(sample);
    if (this.history.length > HISTORY) this.history.shift();
    for (const listener of this.listeners) listener(sample);
  }
}

/** The samplers of one emulator's tasks, by task and interval. */
class TaskSamplers {
  private readonly samplers = new Map<string, TaskSampler>();

  constructor(private readonly core: Core) {}

  get(taskSeq: number, intervalMs: number): TaskSampler {
    const key = `${taskSeq}/${intervalMs}`;
    let sampler = this.samplers.get(key);
    if (!sampler) {
      const { repos, clock } = this.core;
      sampler = new TaskSampler(
        () => ({
          at: isoTime(clock.now()),
          time: new Date().toISOString(),
          total: countsOf(repos.jobs.countsOfTask(taskSeq)),
          groups: repos.jobs
            .groupsOfTask(taskSeq)
            .filter((g) => g.name !== "")
            .slice(0, MAX_GROUPS)
            .map((g) => ({ group: g.name, counts: countsOf(repos.jobs.countsOfGroup(g.id)) })),
        }),
        intervalMs,
        () => this.samplers.delete(key),
      );
      this.samplers.set(key, sampler);
    }
    return sampler;
  }
}

function taskOf(c: AppContext) {
  const core = c.get("core");
  const projectId = c.req.param("projectId")!;
  const taskId = c.req.param("taskId")!;
  const task = core.repos.tasks.get(taskId, projectId);
  if (!task) throw notFound(`Task ${taskId} of project ${projectId} does not exist.`);
  return task;
}

export function registerLiveRoutes(api: AdminApi): void {
  // One set of samplers per emulator (several emulators may share a process).
  const samplers = new WeakMap<Core, TaskSamplers>();

  api.add({
    operationId: "streamTaskStatistics",
    method: "GET",
    path: "/live/projects/{projectId}/tasks/{taskId}/statistics",
    auth: "none",
    query: taskStatisticsQuery,
    handler: (c, { query }) => {
      const task = taskOf(c);
      const core = c.get("core");
      let forCore = samplers.get(core);
      if (!forCore) {
        forCore = new TaskSamplers(core);
        samplers.set(core, forCore);
      }
      const sampler = forCore.get(task.seq, query.intervalMs);
      return streamSSE(c, async (stream) => {
        const pending: Sample[] = [];
        let wake: (() => void) | undefined;
        const { history, unsubscribe } = sampler.subscribe((sample) => {
          pending.push(sample);
          wake?.();
        });
        let closed = false;
        stream.onAbort(() => {
          closed = true;
          unsubscribe();
          wake?.();
        });
        await stream.writeSSE({ event: "history", data: JSON.stringify(history), retry: 2000 });
        while (!closed) {
          while (pending.length > 0 && !closed) await stream.writeSSE({ event: "sample", data: JSON.stringify(pending.shift()) });
          if (closed) break;
          await keepAlive(stream, SSE_HEARTBEAT_MS, (resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
        unsubscribe();
      });
    },
  });

  api.add({
    operationId: "streamJobLogs",
    method: "GET",
    path: "/live/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs",
    auth: "none",
    handler: (c) => {
      const task = taskOf(c);
      const jobId = c.req.param("jobId")!;
      const seq = c.get("jobs").seqOf(task.seq, jobId);
      const { repos } = c.get("core");
      if (seq === undefined || !repos.jobs.job(seq)) throw notFound(`Job ${jobId} does not exist in task ${task.id}.`);
      const resumeAt = Number(c.req.header("last-event-id"));
      return streamSSE(c, async (stream) => {
        let closed = false;
        let wake: (() => void) | undefined;
        stream.onAbort(() => {
          closed = true;
          wake?.();
        });
        let cursor = Number.isSafeInteger(resumeAt) ? resumeAt : -1;
        let lastStatus = -1;
        let lastAttempt = 0;
        let finishedPolls = 0;
        let quietSince = Date.now();
        while (!closed) {
          let job: ReturnType<typeof repos.jobs.job>;
          let lines: ReturnType<typeof repos.jobs.logs>;
          try {
            job = repos.jobs.job(seq);
            lines = repos.jobs.logs(seq, "asc", cursor, 1000);
          } catch {
            break; // the database closed: the emulator is stopping
          }
          if (!job) {
            await stream.writeSSE({ event: "end", data: JSON.stringify({ reason: "The job no longer exists." }) });
            break;
          }
          if (job.status !== lastStatus || job.attempt !== lastAttempt) {
            lastStatus = job.status;
            lastAttempt = job.attempt;
            await stream.writeSSE({ event: "status", data: JSON.stringify({ status: statusNames[job.status], attempt: job.attempt }) });
          }
          for (const line of lines) {
            await stream.writeSSE({
              event: "line",
              id: String(line.at),
              data: JSON.stringify({ timestamp: isoTime(line.at), message: line.message, stream: line.stream === 2 ? "stderr" : "stdout" }),
            });
            cursor = line.at;
          }
          if (lines.length > 0) quietSince = Date.now();
          if (lines.length === 1000) continue; // more waiting
          // A finished job's last lines are recorded in the same scheduler tick as its end; one more look makes sure.
          if (isTerminal(job.status) && ++finishedPolls > 1) {
            await stream.writeSSE({ event: "end", data: JSON.stringify({ status: statusNames[job.status] }) });
            break;
          }
          if (Date.now() - quietSince >= SSE_HEARTBEAT_MS) {
            quietSince = Date.now();
            await stream.write(": keep-alive\n\n");
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, LOG_POLL_MS);
          });
          wake = undefined;
        }
      });
    },
  });
}
