// The Docker executor: each attempt is one container, created from the job's image with its command, environment
// and limits, labelled with the emulator instance that owns it. The executor follows the container's logs and
// waits for its exit, and reports both through ExecutorEvents; it keeps no state that a restart could not
// rebuild from the engine (see recover()).
//
// Per attempt the engine sees: image inspect (cached for a few seconds), create, start, logs (follow) and wait
// (concurrently), then after the exit an inspect (OOMKilled, and to tell an exit from a removal) and a short
// non-follow logs read (see follow()), both overlapping, then remove. One engine event subscription per executor
// catches the OOM kills the inspect misses (see docker-oom-watch.ts).
//
// Time: the emulator's clock may be shifted or faster than real time, while Docker stamps log lines and
// StartedAt in real time. Times reported to the scheduler are translated into the clock's terms at the moment
// they are seen (`at = dockerTime + clock.now() - Date.now()`), so with a real-time clock they are Docker's own.
import os from "node:os";
import { Readable, Writable } from "node:stream";
import type Dockerode from "dockerode";
import type { Clock } from "../clock.js";
import { type DockerEngineInfo, defaultDocker, detectDockerEngine } from "./docker-engine.js";
import { dockerMessage, ImageResolver, ImageUnavailableError, statusOf } from "./docker-images.js";
import { OomWatch } from "./docker-oom-watch.js";
import type { Executor, ExecutorEvents, JobLaunch, JobOutcome, LogLine } from "./executor.js";
import { LogBatcher, LogLineSplitter, parseDockerTime } from "./log-splitter.js";

export { type DockerEngineCheck, type DockerEngineInfo, detectDockerEngine } from "./docker-engine.js";

/** Labels on every container the executor creates. `instance` is what keeps emulators sharing an engine apart. */
export const LABELS = {
  instance: "org.htcemu.instance",
  seq: "org.htcemu.job-seq",
  jobId: "org.htcemu.job-id",
  attempt: "org.htcemu.attempt",
  projectId: "org.htcemu.project-id",
  taskId: "org.htcemu.task-id",
} as const;

const MiB = 1024 * 1024;
/** The engine refuses memory limits below 6 MiB. */
const MIN_MEMORY_MIB = 6;
/** After the exit, how long the log stream may take to deliver its tail before we stop waiting for it. */
const LOG_DRAIN_MS = 5000;

export interface DockerExecutorOptions {
  /** The engine; by default the one DOCKER_HOST or the default socket names. */
  docker?: Dockerode;
  events: ExecutorEvents;
  /** The emulator's clock: timeouts are enforced against it. */
  clock: Clock;
  /** Label value tying containers to this emulator instance; never touch containers with another value. */
  instanceId: string;
  /** vCPUs of jobs that may run at once; default max(2, 2 × the host's CPUs). */
  capacityVcpus?: number;
  /** Network mode of job containers; default `host`, or `bridge` when the engine runs in a VM (Docker Desktop). */
  networkMode?: string;
  /** What detectDockerEngine() found, to skip asking again (and to know the network mode at once). */
  engine?: DockerEngineInfo;
  log?: (line: string) => void;
  /** How often deadlines are checked against the clock (ms). */
  timeoutCheckMs?: number;
  /** How long an image found in the engine is trusted without asking again (real ms). */
  imageCacheMs?: number;
}

export interface RecoverOptions {
  /**
   * The `at` of the last log line the scheduler stored for a job, if any. Logs of re-attached containers then
   * resume right after it (nothing lost, nothing repeated). Without it, a running container's logs are followed
   * from now on (lines written while the emulator was down are not fetched), and an exited container's whole log
   * is reported (lines stored before the restart come again).
   */
  lastLogAt?: (seq: number) => number | undefined;
}

interface Run {
  readonly job: JobLaunch;
  container?: Dockerode.Container;
  /** The container's process was started (by us or, for a recovered run, before the restart). */
  started: boolean;
  /** Why the executor killed it; the first reason wins. */
  stop?: "cancel" | "timeout";
  /** Clock time after which the attempt is killed for its timeout. */
  deadline: number;
  /** finished() was reported; nothing more may be. */
  reported: boolean;
  /** Aborts the requests that follow the container (logs, wait) when the executor closes. */
  readonly abort: AbortController;
  batcher?: LogBatcher;
  /** The last reported log time: lines stay ordered even when the clock translation moves. */
  lastLogAt: number;
}

type Exit = { kind: "exit"; statusCode: number } | { kind: "gone"; reason: string };

export class DockerExecutor implements Executor {
  readonly name = "docker" as const;
  readonly capacityVcpus: number;
  readonly instanceId: string;
  private readonly docker: Dockerode;
  private readonly events: ExecutorEvents;
  private readonly clock: Clock;
  private readonly logLine: (line: string) => void;
  private readonly images: ImageResolver;
  private readonly ooms: OomWatch;
  private readonly runs = new Map<number, Run>();
  /** Every attempt's background work, including the clean-up of attempts already reported. */
  private readonly pipelines = new Set<Promise<void>>();
  /** Aborts pulls in flight when the executor closes. */
  private readonly closing = new AbortController();
  private closeMode: "detach" | "stop" | undefined;
  private closed: Promise<void> | undefined;
  private engine: DockerEngineInfo | undefined;
  private engineCheck: Promise<DockerEngineInfo> | undefined;
  private readonly ticker: NodeJS.Timeout;

  constructor(private readonly options: DockerExecutorOptions) {
    this.docker = options.docker ?? defaultDocker();
    this.events = options.events;
    this.clock = options.clock;
    this.instanceId = options.instanceId;
    this.logLine = options.log ?? (() => {});
    this.capacityVcpus = options.capacityVcpus ?? Math.max(2, 2 * os.availableParallelism());
    this.engine = options.engine;
    this.ooms = new OomWatch(this.docker, `${LABELS.instance}=${this.instanceId}`, this.logLine);
    this.images = new ImageResolver(this.docker, { cacheMs: options.imageCacheMs, signal: this.closing.signal, log: this.logLine });
    // One timer for every deadline; unref'd so an idle executor never keeps the process alive.
    this.ticker = setInterval(() => this.checkDeadlines(), options.timeoutCheckMs ?? 200);
    this.ticker.unref();
  }

  /** Detects the engine first, so networkMode and hostAddressForContainers are final when it resolves. */
  static async create(options: DockerExecutorOptions): Promise<DockerExecutor> {
    const executor = new DockerExecutor(options);
    await executor.prepare();
    return executor;
  }

  /** The network mode of job containers (final once ready() resolved or when `engine` was given). */
  get networkMode(): string {
    return this.options.networkMode ?? (this.engine?.desktop ? "bridge" : "host");
  }

  /** How a container reaches the emulator's host: put this in the API URL injected into jobs. */
  get hostAddressForContainers(): string {
    const mode = this.networkMode;
    return mode === "host" || mode === "none" ? "127.0.0.1" : "host.docker.internal";
  }

  /** Asks the engine once who it is; a failure is not remembered, so a later call tries again. */
  ready(): Promise<DockerEngineInfo> {
    if (this.engine) return Promise.resolve(this.engine);
    this.engineCheck ??= detectDockerEngine(this.docker).then((check) => {
      if (!check.ok) {
        this.engineCheck = undefined;
        throw new Error(check.reason);
      }
      this.engine = check.info;
      return check.info;
    });
    return this.engineCheck;
  }

  /** The engine is known and its OOM events are followed: containers may be started. */
  private async prepare(): Promise<DockerEngineInfo> {
    const engine = await this.ready();
    await this.ooms.start();
    return engine;
  }

  start(job: JobLaunch): void {
    if (this.closeMode) {
      this.logLine(`docker executor: not starting job ${job.jobId}: the executor is closed`);
      return;
    }
    // (A reported attempt may still be cleaning up; a new attempt of the same job may start meanwhile.)
    if (this.runs.get(job.seq)?.reported === false) throw new Error(`job seq ${job.seq} already has an attempt in this executor`);
    const run = this.newRun(job);
    this.track(run, () => this.launch(run));
  }

  cancel(seq: number): void {
    const run = this.runs.get(seq);
    if (!run || run.reported || run.stop) return;
    run.stop = "cancel";
    if (run.started) {
      void this.kill(run);
    } else {
      // Still pulling or creating: it will never be started (launch() checks), so the outcome is known now.
      this.finish(run, { kind: "cancelled", exitCode: null });
    }
  }

  async recover(jobs: JobLaunch[], options: RecoverOptions = {}): Promise<void> {
    if (this.closeMode) return;
    let containers: Dockerode.ContainerInfo[];
    try {
      await this.prepare();
      containers = await this.docker.listContainers({ all: true, filters: { label: [`${LABELS.instance}=${this.instanceId}`] } });
    } catch (error) {
      // Without an engine nothing can be re-attached; say so rather than leave the jobs waiting forever.
      const reason = `the container could not be looked up after a restart: ${dockerMessage(error)}`;
      for (const job of jobs) if (!this.runs.has(job.seq)) this.finish(this.newRun(job), { kind: "vanished", reason });
      return;
    }
    const keyOf = (seq: unknown, attempt: unknown) => `${seq}/${attempt}`;
    const wanted = new Set(jobs.map((j) => keyOf(j.seq, j.attempt)));
    for (const run of this.runs.values()) wanted.add(keyOf(run.job.seq, run.job.attempt));
    const found = new Map<string, Dockerode.ContainerInfo>();
    const leftovers: Dockerode.ContainerInfo[] = [];
    for (const info of containers) {
      const key = keyOf(info.Labels[LABELS.seq], info.Labels[LABELS.attempt]);
      if (wanted.has(key) && !found.has(key)) found.set(key, info);
      else leftovers.push(info);
    }
    // Ours but claimed by no attempt in flight: what a crash left behind between an exit and its removal.
    await Promise.all(leftovers.map((info) => this.remove(this.docker.getContainer(info.Id))));
    await Promise.all(
      jobs.filter((job) => !this.runs.has(job.seq)).map((job) => this.recoverOne(job, found.get(keyOf(job.seq, job.attempt)), options)),
    );
  }

  async close(mode: "detach" | "stop"): Promise<void> {
    if (this.closed) return this.closed;
    this.closeMode = mode;
    clearInterval(this.ticker);
    this.closing.abort();
    this.ooms.close();
    for (const run of this.runs.values()) {
      run.batcher?.discard();
      run.abort.abort();
    }
    this.closed = (async () => {
      await Promise.allSettled([...this.pipelines]);
      if (mode === "stop") await this.removeAllOfInstance();
    })();
    return this.closed;
  }

  // --- one attempt -------------------------------------------------------------------------------------------

  private newRun(job: JobLaunch): Run {
    return { job, started: false, deadline: Number.POSITIVE_INFINITY, reported: false, abort: new AbortController(), lastLogAt: 0 };
  }

  /** Runs `work` for `run` in the background; whatever goes wrong, the attempt still gets its finished(). */
  private track(run: Run, work: () => Promise<void>): Promise<void> {
    this.runs.set(run.job.seq, run);
    const done: Promise<void> = work()
      .catch((error: unknown) => {
        this.logLine(`docker executor: job ${run.job.jobId}: ${(error as Error)?.stack ?? String(error)}`);
        const reason = dockerMessage(error);
        this.finish(
          run,
          run.started ? { kind: "vanished", reason: `the executor lost the container: ${reason}` } : { kind: "start-failed", reason },
        );
      })
      .finally(() => {
        if (this.runs.get(run.job.seq) === run) this.runs.delete(run.job.seq);
        this.pipelines.delete(done);
      });
    this.pipelines.add(done);
    return done;
  }

  /** True when the attempt must go no further: cancelled before it ran, or the executor closed. */
  private abandoned(run: Run): boolean {
    return this.closeMode !== undefined || run.reported;
  }

  private async launch(run: Run): Promise<void> {
    const { job } = run;
    let engine: DockerEngineInfo;
    try {
      engine = await this.prepare();
      await this.images.ensure(job.image, job.imageAuth);
    } catch (error) {
      const reason = error instanceof ImageUnavailableError ? error.message : `CannotPullContainerError: ${dockerMessage(error)}`;
      return this.finish(run, { kind: "start-failed", reason });
    }
    if (this.abandoned(run)) return;
    try {
      run.container = await this.createContainer(job, engine);
    } catch (error) {
      return this.finish(run, { kind: "start-failed", reason: `CreateContainerError: ${dockerMessage(error)}` });
    }
    await this.startAndFollow(run);
  }

  private async startAndFollow(run: Run): Promise<void> {
    const container = run.container!;
    // A created container left behind by a detach is started by recover() after the restart.
    if (this.closeMode) return;
    if (run.reported) return this.remove(container);
    try {
      await container.start();
    } catch (error) {
      await this.remove(container);
      return this.finish(run, { kind: "start-failed", reason: `CannotStartContainerError: ${dockerMessage(error)}` });
    }
    if (this.closeMode) return;
    if (run.reported) return this.remove(container); // cancelled while starting: force-removal kills it
    this.markRunning(run, this.clock.now(), true);
    await this.follow(run);
  }

  private markRunning(run: Run, at: number, enforceTimeout: boolean): void {
    run.started = true;
    const timeoutMs = run.job.execTimeoutSeconds * 1000;
    if (enforceTimeout && timeoutMs > 0) run.deadline = at + timeoutMs;
    this.emit(() => this.events.running(run.job.seq, { instanceId: run.container!.id, at }));
  }

  /** Streams logs until the container exits, then reports its outcome and removes it. */
  private async follow(run: Run, from: { sinceMs?: number; skipUntilMs?: number } = {}): Promise<void> {
    const container = run.container!;
    const batcher = new LogBatcher((lines) => this.emitLog(run, lines));
    run.batcher = batcher;
    const splitter = new LogLineSplitter((line) => batcher.push(this.toClockLine(run, line)), from.skipUntilMs);
    const stopFollowing = new AbortController();
    const since = from.sinceMs === undefined ? undefined : (from.sinceMs / 1000).toFixed(3);
    const followed = this.readLogs(run, splitter, {
      follow: true,
      since,
      signal: AbortSignal.any([run.abort.signal, stopFollowing.signal]),
    });

    const exit = await this.waitForExit(run);
    if (this.closeMode) return;
    const logsComplete = (async () => {
      await this.drain(run, followed);
      stopFollowing.abort();
      // Docker may end a follow before it logged the last output when that lacks a newline (seen with 20.10), so
      // read once more what came after the last frame seen. One cheap request; the splitter drops repeats.
      await this.readLogs(run, splitter, { follow: false, since: splitter.catchUp() ?? since, signal: run.abort.signal });
    })();
    let outcome: JobOutcome;
    if (exit.kind === "gone") {
      await logsComplete;
      outcome = { kind: "vanished", reason: exit.reason };
    } else {
      // The inspect (for OOMKilled, and to tell an exit from a removal) overlaps with the log stream's tail.
      const [state] = await Promise.all([this.stateAfterExit(container), logsComplete]);
      outcome = this.outcomeOf(run, exit.statusCode, state);
      if (outcome.kind === "exited" && !outcome.oomKilled) {
        // A SIGKILL we did not send is how an OOM kill looks: give a late `oom` event a moment to arrive.
        outcome.oomKilled = await this.ooms.oomKilled(container.id, outcome.exitCode === 137);
      }
    }
    if (this.closeMode) return;
    splitter.end();
    batcher.flush();
    this.finish(run, outcome);
    await this.remove(container);
    this.ooms.forget(container.id);
  }

  /** Reads the container's log (following it, or what is there now) into the splitter; never throws. */
  private async readLogs(
    run: Run,
    splitter: LogLineSplitter,
    how: { follow: boolean; since?: string; signal: AbortSignal },
  ): Promise<void> {
    const options = { stdout: true, stderr: true, timestamps: true, abortSignal: how.signal, ...(how.since ? { since: how.since } : {}) };
    try {
      // Following yields a stream; otherwise dockerode hands the whole (still multiplexed) body over at once.
      const source = how.follow
        ? await run.container!.logs({ ...options, follow: true })
        : Readable.from([await run.container!.logs({ ...options, follow: false })]);
      await new Promise<void>((resolve) => {
        const sink = (which: LogLine["stream"]) =>
          new Writable({
            // Synchronous on purpose: every frame is split before the stream's 'end' is seen.
            write(chunk: Buffer, _encoding, done) {
              splitter.frame(which, chunk);
              done();
            },
          });
        this.docker.modem.demuxStream(source, sink("stdout"), sink("stderr"));
        source.on("end", resolve);
        source.on("close", resolve);
        source.on("error", (error: Error) => {
          if (!this.closeMode && !how.signal.aborted) {
            this.logLine(`docker executor: job ${run.job.jobId}: reading the log failed: ${error.message}`);
          }
          resolve();
        });
      });
    } catch (error) {
      if (!this.closeMode && !how.signal.aborted && statusOf(error) !== 404) {
        this.logLine(`docker executor: job ${run.job.jobId}: could not read the log: ${dockerMessage(error)}`);
      }
    }
  }

  /** Waits for the followed log to end after the exit, but not forever: an engine may keep it open. */
  private async drain(run: Run, followed: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), LOG_DRAIN_MS);
    });
    const timedOut = await Promise.race([followed.then(() => false), late]);
    clearTimeout(timer);
    if (timedOut) this.logLine(`docker executor: job ${run.job.jobId}: the log stream did not end ${LOG_DRAIN_MS} ms after the exit`);
  }

  private async waitForExit(run: Run): Promise<Exit> {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = (await run.container!.wait({ abortSignal: run.abort.signal })) as { StatusCode?: number };
        return { kind: "exit", statusCode: result.StatusCode ?? -1 };
      } catch (error) {
        if (this.closeMode) return { kind: "gone", reason: "the executor closed" };
        if (statusOf(error) === 404) return { kind: "gone", reason: "the container was removed while the job ran" };
        // The engine restarting or a dropped connection: ask again a few times before giving up on it.
        if (attempt >= 4) return { kind: "gone", reason: `lost contact with the container: ${dockerMessage(error)}` };
        this.logLine(`docker executor: job ${run.job.jobId}: waiting for the exit failed (${dockerMessage(error)}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  private async stateAfterExit(container: Dockerode.Container): Promise<Dockerode.ContainerInspectInfo["State"] | "gone" | undefined> {
    try {
      return (await container.inspect()).State;
    } catch (error) {
      return statusOf(error) === 404 ? "gone" : undefined;
    }
  }

  private outcomeOf(run: Run, statusCode: number, state: Dockerode.ContainerInspectInfo["State"] | "gone" | undefined): JobOutcome {
    const exitCode = state && state !== "gone" ? state.ExitCode : statusCode;
    if (run.stop === "cancel") return { kind: "cancelled", exitCode };
    if (run.stop === "timeout") return { kind: "timeout", exitCode };
    // `docker rm -f` kills first, so the wait sees an exit; the removal shows in the state (or its absence).
    if (state === "gone" || (state && (state.Status === "removing" || state.Status === "dead"))) {
      return { kind: "vanished", reason: "the container was removed while the job ran" };
    }
    return { kind: "exited", exitCode, oomKilled: state?.OOMKilled ?? false };
  }

  private checkDeadlines(): void {
    const now = this.clock.now();
    for (const run of this.runs.values()) {
      if (run.started && !run.stop && !run.reported && run.deadline <= now) {
        run.stop = "timeout";
        void this.kill(run);
      }
    }
  }

  private async kill(run: Run): Promise<void> {
    try {
      await run.container!.kill({ signal: "SIGKILL" });
    } catch (error) {
      const status = statusOf(error);
      // 409: it is not running any more. It exited on its own just before its deadline: not a timeout.
      if (status === 409 && run.stop === "timeout") run.stop = undefined;
      else if (status !== 404 && status !== 409)
        this.logLine(`docker executor: job ${run.job.jobId}: kill failed: ${dockerMessage(error)}`);
    }
  }

  private async createContainer(job: JobLaunch, engine: DockerEngineInfo): Promise<Dockerode.Container> {
    const memory = job.memoryMiB > 0 ? Math.max(MIN_MEMORY_MIB, job.memoryMiB) * MiB : undefined;
    const spec: Dockerode.ContainerCreateOptions = {
      name: `htcemu-${shortInstance(this.instanceId)}-${job.seq}-${job.attempt}`,
      Image: job.image,
      Env: Object.entries(job.env).map(([k, v]) => `${k}=${v}`),
      Labels: {
        [LABELS.instance]: this.instanceId,
        [LABELS.seq]: String(job.seq),
        [LABELS.jobId]: job.jobId,
        [LABELS.attempt]: String(job.attempt),
        [LABELS.projectId]: job.projectId,
        [LABELS.taskId]: job.taskId,
      },
      HostConfig: {
        NetworkMode: this.networkMode,
        // No swap: MemorySwap is memory + swap, so equal values mean none.
        ...(memory ? { Memory: memory, MemorySwap: memory } : {}),
        ...(job.vcpus > 0 ? { NanoCpus: Math.round(Math.min(job.vcpus, engine.ncpu) * 1e9) } : {}),
        AutoRemove: false,
        // Engines without Docker Desktop's built-in name need it spelled out (only matters off the host network).
        ...(this.hostAddressForContainers === "host.docker.internal" && !engine.desktop
          ? { ExtraHosts: ["host.docker.internal:host-gateway"] }
          : {}),
        // The logs endpoint needs a driver it can read back; don't depend on the engine's default.
        LogConfig: { Type: "json-file", Config: {} },
      },
    };
    if (job.commands.length > 0) spec.Cmd = job.commands;
    if (job.workingDir) spec.WorkingDir = job.workingDir;
    try {
      return await this.docker.createContainer(spec);
    } catch (error) {
      // The name is a convenience for people reading `docker ps`; a clash (a leftover, another instance with the
      // same prefix) must not fail the job.
      if (statusOf(error) !== 409) throw error;
      delete spec.name;
      return await this.docker.createContainer(spec);
    }
  }

  private async remove(container: Dockerode.Container): Promise<void> {
    try {
      await container.remove({ force: true, v: true });
    } catch (error) {
      const status = statusOf(error);
      // 404: already gone; 409: a removal is already in progress.
      if (status !== 404 && status !== 409)
        this.logLine(`docker executor: removing container ${container.id} failed: ${dockerMessage(error)}`);
    }
  }

  private async removeAllOfInstance(): Promise<void> {
    try {
      const list = await this.docker.listContainers({ all: true, filters: { label: [`${LABELS.instance}=${this.instanceId}`] } });
      await Promise.all(list.map((info) => this.remove(this.docker.getContainer(info.Id))));
    } catch (error) {
      this.logLine(`docker executor: could not list containers to remove: ${dockerMessage(error)}`);
    }
  }

  // --- recovery ----------------------------------------------------------------------------------------------

  private async recoverOne(job: JobLaunch, info: Dockerode.ContainerInfo | undefined, options: RecoverOptions): Promise<void> {
    const run = this.newRun(job);
    if (!info) return this.finish(run, { kind: "vanished", reason: "the container was not found after a restart" });
    const container = this.docker.getContainer(info.Id);
    run.container = container;
    let state: Dockerode.ContainerInspectInfo["State"];
    try {
      state = (await container.inspect()).State;
    } catch {
      return this.finish(run, { kind: "vanished", reason: "the container was not found after a restart" });
    }
    const lastLogAt = options.lastLogAt?.(job.seq);
    const skipUntilMs = lastLogAt === undefined ? undefined : this.toDockerTime(lastLogAt);
    const startedAt = parseDockerTime(state.StartedAt);
    switch (state.Status) {
      case "created":
        // Created before a detach but never started: start it now, as the launch would have.
        this.track(run, () => this.startAndFollow(run));
        return;
      case "running":
      case "paused":
      case "restarting":
        this.markRunning(run, startedAt === null ? this.clock.now() : this.toClockTime(startedAt), true);
        this.track(run, () => this.follow(run, { sinceMs: skipUntilMs ?? Date.now(), skipUntilMs }));
        return;
      case "exited":
      case "dead":
        // It ended while nobody watched: report it as if we had (running first, then logs, then the exit).
        if (startedAt !== null) this.markRunning(run, this.toClockTime(startedAt), false);
        else run.started = true;
        await this.track(run, () => this.follow(run, { sinceMs: skipUntilMs, skipUntilMs }));
        return;
      default:
        await this.remove(container);
        return this.finish(run, { kind: "vanished", reason: `the container was ${state.Status} after a restart` });
    }
  }

  // --- reporting ---------------------------------------------------------------------------------------------

  private toClockTime(dockerMs: number): number {
    return dockerMs + this.clock.now() - Date.now();
  }

  private toDockerTime(clockMs: number): number {
    return clockMs - this.clock.now() + Date.now();
  }

  private toClockLine(run: Run, line: LogLine): LogLine {
    const at = Math.max(run.lastLogAt, Math.round(this.toClockTime(line.at)));
    run.lastLogAt = at;
    return { at, stream: line.stream, message: line.message };
  }

  private emitLog(run: Run, lines: LogLine[]): void {
    if (run.reported) return;
    this.emit(() => this.events.log(run.job.seq, lines));
  }

  private finish(run: Run, outcome: JobOutcome): void {
    if (run.reported) return;
    run.reported = true;
    this.emit(() => this.events.finished(run.job.seq, outcome, this.clock.now()));
  }

  /** Reports unless the executor closed; a throwing listener must not break the attempt's bookkeeping. */
  private emit(report: () => void): void {
    if (this.closeMode) return;
    try {
      report();
    } catch (error) {
      this.logLine(`docker executor: an event listener threw: ${(error as Error)?.stack ?? String(error)}`);
    }
  }
}

/** A name-safe prefix of the instance id, enough to tell instances apart in `docker ps`. */
function shortInstance(instanceId: string): string {
  return instanceId.replace(/[^a-zA-Z0-9_.-]/g, "").slice(0, 12) || "x";
}
