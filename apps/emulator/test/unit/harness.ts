// The job side without an HTTP server: a core on an in-memory database, the real JobService (submit checks,
// storage in one transaction, the scheduler) and a fake executor whose reports the test sends by hand. The
// scheduler's timer is never started: a tick runs when something pokes it (a submission, a report) on the next
// turn of the event loop, or when the test calls tick(), so every test is deterministic and fast.
import { loadOrCreateSigningKey } from "../../src/auth/keys.js";
import { TokenService } from "../../src/auth/tokens.js";
import { VirtualClock } from "../../src/clock.js";
import type { Core } from "../../src/core.js";
import { openDatabase } from "../../src/db/database.js";
import { createRepositories } from "../../src/db/repositories/index.js";
import type { ProjectRow } from "../../src/db/repositories/projects.js";
import type { TaskRow } from "../../src/db/repositories/tasks.js";
import { Counters } from "../../src/domain/counters.js";
import { IdentityService } from "../../src/domain/identity.js";
import type { Principal } from "../../src/domain/principal.js";
import { createProject } from "../../src/domain/projects.js";
import { createTask } from "../../src/domain/tasks.js";
import { FaultInjector } from "../../src/faults/injector.js";
import { FaultService } from "../../src/faults/service.js";
import type { Executor, ExecutorEvents, JobLaunch, JobOutcome } from "../../src/jobs/executor.js";
import { type ImageCatalog, simulatedImages } from "../../src/jobs/images.js";
import { JobService } from "../../src/jobs/service.js";
import { statusNames } from "../../src/jobs/status.js";
import type { SubmitRequest } from "../../src/jobs/submit.js";
import { resolveOptions } from "../../src/options.js";
import { submitRequestSchema } from "../../src/schemas/jobs.js";
import { StorageService } from "../../src/storage/service.js";

/** An executor that runs nothing: it records what it is asked, and the test reports for it. */
export class FakeExecutor implements Executor {
  readonly name = "simulated" as const;
  /** Launches started, in order. */
  readonly started: JobLaunch[] = [];
  readonly cancelled: number[] = [];
  recovered: JobLaunch[] = [];
  closed: "detach" | "stop" | undefined;
  events!: ExecutorEvents;

  constructor(public capacityVcpus = 1000) {}

  start(job: JobLaunch): void {
    this.started.push(job);
  }

  cancel(seq: number): void {
    this.cancelled.push(seq);
  }

  async recover(jobs: JobLaunch[]): Promise<void> {
    this.recovered = jobs;
  }

  async close(mode: "detach" | "stop"): Promise<void> {
    this.closed = mode;
  }

  /** Seqs started so far. */
  get startedSeqs(): number[] {
    return this.started.map((l) => l.seq);
  }

  running(seq: number, at = Date.now()): void {
    this.events.running(seq, { instanceId: `fake-${seq}`, at });
  }

  finish(seq: number, outcome: JobOutcome = { kind: "exited", exitCode: 0, oomKilled: false }, at = Date.now()): void {
    this.events.finished(seq, outcome, at);
  }
}

export interface JobSide {
  s: Core;
  jobs: JobService;
  /** The fault rules, when the side was built with `faults: true` (rebuilt by restart(), the rules kept). */
  faults: FaultService | undefined;
  executor: FakeExecutor;
  principal: Principal;
  /** A new project of the default workspace (its regions: the default one, or those given). */
  project(regions?: string[]): ProjectRow;
  task(project: ProjectRow, name?: string): TaskRow;
  /** Submits batches (zod defaults applied) and returns the seqs of their jobs, batch by batch. */
  submit(project: ProjectRow, task: TaskRow, batches: Partial<SubmitRequest>[], group?: string): Promise<number[][]>;
  /** One tick of the scheduler, then the launches it started (they are built asynchronously). */
  tick(): Promise<void>;
  /** Status names of jobs, by seq. */
  statuses(seqs: number[]): string[];
  /** A restart: the scheduler (and executor) are closed and new ones recover from the database. */
  restart(capacityVcpus?: number): Promise<void>;
  /** Stops the scheduler and closes the database. */
  close(): Promise<void>;
}

/** One job definition that passes the checks; `batchSize` and the rest come from `request`. */
export function request(
  overrides: Partial<SubmitRequest> & { vcpus?: number; priority?: "ON_DEMAND_PRIORITY" | "ON_DEMAND_ECONOMY" } = {},
): Partial<SubmitRequest> {
  const { vcpus, priority, ...rest } = overrides;
  return {
    batchSize: 1,
    ...rest,
    htcJobDefinition: {
      imageName: "htcemu/shell:1",
      ...(vcpus === undefined ? {} : { maxVCpus: vcpus }),
      ...(priority === undefined ? {} : { priority }),
      ...rest.htcJobDefinition,
    },
  };
}

/** Waits until promises queued so far (launch building) have settled. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function jobSide(
  options: {
    capacityVcpus?: number;
    images?: ImageCatalog;
    workspaceVcpuLimit?: number;
    /** Fault injection on: the job service asks the rules, and `side.faults` manages them. */
    faults?: boolean;
    log?: (line: string) => void;
  } = {},
): Promise<JobSide> {
  const db = openDatabase({ inMemory: true });
  const clock = new VirtualClock();
  const log = options.log ?? (() => {});
  const resolved = resolveOptions({ inMemory: true, executor: "simulated", workspaceVcpuLimit: options.workspaceVcpuLimit });
  const repos = createRepositories(db);
  const storage = await StorageService.open({ root: undefined, db, clock, log });
  const s: Core = {
    options: resolved,
    db,
    clock,
    repos,
    counters: new Counters(),
    tokens: new TokenService(await loadOrCreateSigningKey(db, clock.now()), clock),
    identity: new IdentityService(repos.identity, clock),
    storage,
    images: options.images ?? simulatedImages,
    urls: { root: "http://127.0.0.1:9", registryHost: "127.0.0.1:9", fixedOrigin: undefined },
  };
  const injector = options.faults ? new FaultInjector(s, log) : undefined;
  const { user, workspace } = s.identity.ensureDefaultUser();
  if (options.workspaceVcpuLimit !== undefined) s.repos.identity.setWorkspaceLimit(workspace.id, options.workspaceVcpuLimit, clock.now());
  const principal: Principal = { user, workspace: s.repos.identity.workspace(workspace.id)! };
  const start = async (capacityVcpus: number | undefined) => {
    const executor = new FakeExecutor(capacityVcpus);
    const jobs = new JobService(s, {
      makeExecutor: (events) => {
        executor.events = events;
        return executor;
      },
      apiUrlForJobs: "http://127.0.0.1:9/api/v1",
      ...(injector ? { faults: injector } : {}),
      log,
    });
    const faults = injector && new FaultService(injector, jobs.scheduler.controls, jobs.faultyExecutor, clock);
    await jobs.scheduler.recover();
    return { jobs, executor, faults };
  };
  let projects = 0;
  const side: JobSide = {
    s,
    ...(await start(options.capacityVcpus)),
    principal,
    project: (regions) =>
      createProject(s, principal, {
        projectName: `project ${++projects}`,
        projectDescription: "",
        ...(regions ? { regions: regions as never } : {}),
      }),
    task: (project, name = "task") => createTask(s, principal, project, name, ""),
    async submit(project, task, batches, group = "") {
      const requests = batches.map((b) => submitRequestSchema.parse(b));
      const before = s.repos.jobs.nextJobSeq();
      await side.jobs.submit(principal, project, task, group, requests);
      let next = before;
      return requests.map((r) => Array.from({ length: r.batchSize }, () => next++));
    },
    async tick() {
      side.jobs.scheduler.tick();
      await settle();
    },
    statuses: (seqs) => seqs.map((seq) => statusNames[s.repos.jobs.job(seq)!.status]!),
    async restart(capacityVcpus) {
      side.faults?.close();
      await side.jobs.close("detach");
      Object.assign(side, await start(capacityVcpus ?? options.capacityVcpus));
    },
    async close() {
      side.faults?.close();
      await side.jobs.close("stop");
      await storage.close();
      db.close();
    },
  };
  return side;
}
