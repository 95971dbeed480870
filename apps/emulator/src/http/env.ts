// The Hono environment every handler sees: the emulator's core, the subsystems that only the HTC routes and the
// admin API use, the operation being served, on authenticated operations the caller, and while the request
// inspector records, what it needs of the exchange.
import type { Context } from "hono";
import type { Core } from "../core.js";
import type { Principal } from "../domain/principal.js";
import type { FaultService } from "../faults/service.js";
import type { Inspector, InspectedViolation } from "../inspector/inspector.js";
import type { JobService } from "../jobs/service.js";
import type { RegistryService } from "../registry/service.js";

/** One emulator as the HTTP layer sees it. */
export interface Emulator {
  core: Core;
  jobs: JobService;
  faults: FaultService;
  registry: RegistryService;
  /** The request inspector (capacity 0 when it is off). */
  inspector: Inspector;
}

/** The operation a request goes to (set by OperationRegistry before anything else runs). */
export interface ServedOperation {
  readonly operationId: string;
  /** Which API describes it: the HTC contract or the emulator's admin API. */
  readonly api: "htc" | "admin";
  /** Path parameters whose value is a secret (an API key): the inspector does not show them. */
  readonly secretParams?: readonly string[];
}

/** What the request inspector learns of an exchange from the layers that produce it. */
export interface Exchange {
  /** When the request came, on the monotonic clock (performance.now()). */
  readonly started: number;
  /** The JSON request body as read (http/validation.ts). */
  requestText?: string;
  /** The answer's body as serialized (http/router.ts, http/frame.ts); "" for none. */
  responseText?: string;
  /** The answer's media type, when the serializer knows it (JSON). */
  responseType?: string;
  /** Headers set on an answer besides its media type (an error's WWW-Authenticate, Retry-After). */
  responseHeaders?: Record<string, string>;
  /** The handler answered a Response of its own (a stream). */
  stream?: boolean;
  /** What --strict found off-contract (http/strict.ts, applied by the frame). */
  violations?: InspectedViolation[];
}

export interface AppEnv {
  Variables: Emulator & {
    principal: Principal;
    operation: ServedOperation;
    exchange: Exchange | undefined;
  };
}

export type AppContext = Context<AppEnv>;
