// The core of one emulator: what domain functions, the job side, storage and fault injection work with. Built
// once per emulator by startEmulator() (emulator.ts), complete from the start (nothing in it is filled in
// later), and never module-level state, so several emulators run in one process without sharing anything.
// The subsystems that only the HTTP routes and the admin API use (the job service, the fault rules, the
// registry) are not in it: they take the core, not the other way round (see http/env.ts).
import type { TokenService } from "./auth/tokens.js";
import type { VirtualClock } from "./clock.js";
import type { Db } from "./db/database.js";
import { IdentityRepository } from "./db/repositories/identity.js";
import { JobRepository } from "./db/repositories/jobs.js";
import { ProjectRepository } from "./db/repositories/projects.js";
import { RegistryRepository } from "./db/repositories/registry.js";
import { TaskRepository } from "./db/repositories/tasks.js";
import type { Counters } from "./domain/counters.js";
import type { IdentityService } from "./domain/identity.js";
import type { ImageCatalog } from "./jobs/images.js";
import type { ResolvedOptions } from "./options.js";
import type { StorageService } from "./storage/service.js";

export interface Repositories {
  identity: IdentityRepository;
  projects: ProjectRepository;
  tasks: TaskRepository;
  jobs: JobRepository;
  registry: RegistryRepository;
}

export function createRepositories(db: Db): Repositories {
  return {
    identity: new IdentityRepository(db),
    projects: new ProjectRepository(db),
    tasks: new TaskRepository(db),
    jobs: new JobRepository(db),
    registry: new RegistryRepository(db),
  };
}

/** Where the emulator is reached; known before the core is built (the server binds its port first). */
export interface Urls {
  /** `http://host:port` of the emulator (or the `--public-url`). */
  root: string;
  /** `host:port` of the registry that serves project images. */
  registryHost: string;
  /**
   * The origin clients reach the emulator at, when `--public-url` fixes it; otherwise each request's own origin
   * counts (http/origin.ts).
   */
  fixedOrigin: string | undefined;
}

export interface Core {
  options: ResolvedOptions;
  db: Db;
  clock: VirtualClock;
  repos: Repositories;
  /** The counters of the metrics. */
  counters: Counters;
  tokens: TokenService;
  identity: IdentityService;
  /** Project and task storage: the S3-compatible endpoint's data and the credentials for it. */
  storage: StorageService;
  /** Where job images come from (the project registries first, then the executor's own). */
  images: ImageCatalog;
  urls: Urls;
}
