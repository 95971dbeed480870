// The core of one emulator: what domain functions, the job side, storage and fault injection work with. Built
// once per emulator by startEmulator() (emulator.ts), complete from the start (nothing in it is filled in
// later), and never module-level state, so several emulators run in one process without sharing anything.
// The subsystems that only the HTTP routes and the admin API use (the job service, the fault rules, the
// registry) are not in it: they take the core, not the other way round (see http/env.ts).
import type { TokenService } from "./auth/tokens.js";
import type { VirtualClock } from "./clock.js";
import type { Db } from "./db/database.js";
import type { Repositories } from "./db/repositories/index.js";
import type { Counters } from "./domain/counters.js";
import type { IdentityService } from "./domain/identity.js";
import type { ImageCatalog } from "./jobs/images.js";
import type { ResolvedOptions } from "./options.js";
import type { StorageService } from "./storage/service.js";

export type { Repositories } from "./db/repositories/index.js";

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
