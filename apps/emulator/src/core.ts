// Everything a request handler may use, built once per emulator instance. Several emulators in one process
// each get their own Services (nothing here is module-level state).
import type { VirtualClock } from "./clock.js";
import type { Db } from "./db/database.js";
import { IdentityRepository } from "./db/repositories/identity.js";
import { ProjectRepository } from "./db/repositories/projects.js";
import { TaskRepository, type TaskRow } from "./db/repositories/tasks.js";
import { JobRepository } from "./db/repositories/jobs.js";
import { RegistryRepository } from "./db/repositories/registry.js";
import type { ImageCatalog } from "./jobs/images.js";
import type { JobService } from "./jobs/service.js";
import type { SigningKey } from "./auth/keys.js";
import { TokenService } from "./auth/tokens.js";
import { IdentityService } from "./domain/identity.js";
import { Counters, type MetricSource } from "./domain/metrics.js";
import type { FaultService } from "./faults/service.js";
import type { AppContext } from "./http/env.js";
import type { ResolvedOptions } from "./options.js";
import type { RegistryService } from "./registry/service.js";
import type { StorageService } from "./storage/service.js";

export interface Repositories {
  identity: IdentityRepository;
  projects: ProjectRepository;
  tasks: TaskRepository;
  jobs: JobRepository;
  registry: RegistryRepository;
}

/** What the task lifecycle needs from the job side (filled in by the job service). */
export interface TaskJobs {
  /** How many jobs of the task have not reached SUCCEEDED or FAILED. */
  unfinished(task: TaskRow): number;
  /** Cancels every unfinished job of the task (inside the caller's transaction). */
  cancelAll(task: TaskRow): void;
  /** Called after a task was deleted, e.g. to release its storage. */
  onDeleted(task: TaskRow): void;
}

/** Addresses known once the server listens. */
export interface Urls {
  /** `http://host:port` of the emulator. */
  root: string;
  /** `host:port` of the registry that serves project images. */
  registryHost: string;
}

export interface Services {
  options: ResolvedOptions;
  db: Db;
  clock: VirtualClock;
  repos: Repositories;
  tokens: TokenService;
  identity: IdentityService;
  urls: Urls;
  /** The executor that runs jobs (`docker` or `simulated`). */
  executorName(): string;
  /** Set once the job side is assembled (see emulator.ts). */
  jobs: JobService;
  images: ImageCatalog;
  /** The project registries (set in emulator.ts; `enabled` is false when no registry runs). */
  registry: RegistryService;
  taskJobs: TaskJobs;
  /** Project and task storage, the S3-compatible endpoint's data (set in emulator.ts). */
  storage: StorageService;
  counters: Counters;
  /** Fault injection rules (admin API; set in emulator.ts). */
  faults: FaultService;
  /** Extra gauges (jobs, storage) contributed by other parts of the emulator. */
  metricSources: MetricSource[];
  /** The origin (scheme://host[:port]) clients reach this emulator at, as seen by the current request. */
  publicOrigin(c: AppContext): string;
}

export function createServices(options: ResolvedOptions, db: Db, clock: VirtualClock, key: SigningKey): Services {
  const repos: Repositories = { identity: new IdentityRepository(db), projects: new ProjectRepository(db),
    tasks: new TaskRepository(db),
    jobs: new JobRepository(db),
    registry: new RegistryRepository(db),
  };
  const configuredOrigin = options.publicUrl ? new URL(options.publicUrl).origin : undefined;
  return {
    options,
    db,
    clock,
    repos,
    tokens: new TokenService(key, clock),
    identity: new IdentityService(repos.identity, clock),
    urls: { root: "", registryHost: "" },
    executorName: () => "simulated",
    jobs: undefined as unknown as JobService,
    images: undefined as unknown as ImageCatalog,
    registry: undefined as unknown as RegistryService,
    taskJobs: { unfinished: () => 0, cancelAll: () => {}, onDeleted: () => {} },
    storage: undefined as unknown as StorageService,
    counters: new Counters(),
    faults: undefined as unknown as FaultService,
    metricSources: [],
    publicOrigin(c) {
      if (configuredOrigin) return configuredOrigin;
      // Behind a reverse proxy the forwarded headers say what the client used.
      const host = c.req.header("x-forwarded-host") ?? c.req.header("host");
      const proto = c.req.header("x-forwarded-proto") ?? new URL(c.req.url).protocol.replace(":", "");
      return host ? `${proto}://${host}` : new URL(c.req.url).origin;
    },
  };
}
