// The Hono environment every handler sees: the emulator's core, the subsystems that only the HTC routes and the
// admin API use, the operation being served, and on authenticated operations the caller.
import type { Context } from "hono";
import type { Core } from "../core.js";
import type { Principal } from "../domain/principal.js";
import type { FaultService } from "../faults/service.js";
import type { JobService } from "../jobs/service.js";
import type { RegistryService } from "../registry/service.js";

/** One emulator as the HTTP layer sees it. */
export interface Emulator {
  core: Core;
  jobs: JobService;
  faults: FaultService;
  registry: RegistryService;
}

/** The operation a request goes to (set by OperationRegistry before anything else runs). */
export interface ServedOperation {
  readonly operationId: string;
  /** Which API describes it: the HTC contract or the emulator's admin API. */
  readonly api: "htc" | "admin";
}

export interface AppEnv {
  Variables: Emulator & {
    principal: Principal;
    operation: ServedOperation;
  };
}

export type AppContext = Context<AppEnv>;
