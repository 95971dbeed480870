// Typed helpers for the emulator's admin API (openapi/admin/admin.yaml, under /_emulator/v1): the test controls
// (clock, fault rules, scheduler pause and stepping, reset, snapshots) and identity set-up. Emulator-only:
// production has nothing like it, so keep these calls in test code.
//
//   import { createAdminClient } from "@htcemu/client/admin";
//   const admin = createAdminClient("http://127.0.0.1:8787");
//   await admin.addFault({ match: { operations: ["getJobs"] }, times: 3, api: { status: 429, retryAfterSeconds: 1 } });
//   await admin.advanceClock({ hours: 7 });
import createClient, { type Client } from "openapi-fetch";
import { DEFAULT_USER_AGENT } from "./client.js";
import { HtcApiError } from "./errors.js";
import type { components, paths } from "@htcemu/openapi/types/admin";
import { resolveRetryPolicy, type RetryOptions } from "./retry.js";
import { createTransport, DEFAULT_TIMEOUT_MS, type FetchFn, type Transport } from "./transport.js";

export type { components as adminComponents, operations as adminOperations, paths as adminPaths } from "@htcemu/openapi/types/admin";

type Schemas = components["schemas"];
export type FaultRuleCreate = Schemas["FaultRuleCreate"];
export type FaultRule = Schemas["FaultRule"];
export type FaultLog = Schemas["FaultLog"];
export type FaultInjection = Schemas["FaultInjection"];
export type SchedulerState = Schemas["SchedulerState"];
export type StepRequest = Schemas["StepRequest"];
export type StepResult = Schemas["StepResult"];
export type ResetResult = Schemas["ResetResult"];
export type SnapshotSummary = Schemas["SnapshotSummary"];
export type EmulatorClock = Schemas["Clock"];
export type EmulatorInfo = Schemas["EmulatorInfo"];
export type AdminWorkspace = Schemas["AdminWorkspace"];
export type AdminWorkspaceCreate = Schemas["AdminWorkspaceCreate"];
export type AdminUser = Schemas["AdminUser"];
export type AdminUserCreate = Schemas["AdminUserCreate"];

export const ADMIN_PREFIX = "/_emulator/v1";

/** A duration: seconds, or parts that add up. */
export type Duration = number | { days?: number; hours?: number; minutes?: number; seconds?: number };

export function durationSeconds(duration: Duration): number {
  if (typeof duration === "number") return duration;
  return (duration.days ?? 0) * 86400 + (duration.hours ?? 0) * 3600 + (duration.minutes ?? 0) * 60 + (duration.seconds ?? 0);
}

/** The admin client runs on the same transport as the HTC client (timeouts, abort, retries), without auth. */
export interface AdminClientOptions {
  /** Custom fetch under the transport (defaults to globalThis.fetch). */
  fetch?: FetchFn;
  /**
   * Time budget of each request until its answer's headers arrive (a snapshot's body may take longer).
   * Default 60 000 ms; 0 disables it.
   */
  timeoutMs?: number;
  /**
   * Retry policy. Default: no retries, so that a test sees the emulator's first answer (opt in with `{}` for the
   * HTC client's defaults).
   */
  retry?: RetryOptions | false;
  /** Ends every request of this client when it aborts (e.g. on Ctrl-C). */
  signal?: AbortSignal;
  userAgent?: string;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

export interface AdminClient {
  /** The typed openapi-fetch client of the admin API, for operations without a helper. */
  readonly api: Client<paths>;
  /** `<root>/_emulator/v1` */
  readonly baseUrl: string;
  info(): Promise<EmulatorInfo>;

  clock(): Promise<EmulatorClock>;
  /** Moves the clock forward (it never goes back); retention policies are applied right after. */
  advanceClock(by: Duration): Promise<EmulatorClock>;
  /** Emulated seconds per real second from now on. */
  setSpeed(factor: number): Promise<EmulatorClock>;
  /** Applies the retention policies now. */
  runRetention(): Promise<{ archived: string[]; deleted: string[] }>;

  addFault(rule: FaultRuleCreate): Promise<FaultRule>;
  removeFault(ruleId: string): Promise<FaultRule>;
  listFaults(): Promise<FaultRule[]>;
  getFault(ruleId: string): Promise<FaultRule>;
  clearFaults(): Promise<FaultRule[]>;
  faultLog(options?: { ruleId?: string; limit?: number }): Promise<FaultLog>;

  scheduler(): Promise<SchedulerState>;
  pause(): Promise<SchedulerState>;
  resume(): Promise<SchedulerState>;
  /** Moves jobs through their lifecycle by hand (the scheduler must be paused). */
  step(request: StepRequest): Promise<StepResult>;

  /** Resets everything but the default user, or one workspace. */
  reset(workspaceId?: string): Promise<ResetResult>;
  /** The whole state as a snapshot file's bytes. */
  exportSnapshot(): Promise<Uint8Array>;
  /** Replaces the state with a snapshot (bytes from exportSnapshot(), or a stream of them). */
  importSnapshot(snapshot: Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>): Promise<SnapshotSummary>;

  createWorkspace(workspace: AdminWorkspaceCreate): Promise<AdminWorkspace>;
  createUser(workspaceId: string, user: AdminUserCreate): Promise<AdminUser>;
}

/** The rest of an openapi-fetch result: data, or an HtcApiError for the error. */
async function ok<T>(method: string, call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok && error === undefined) return data as T;
  throw new HtcApiError({ status: response.status, statusText: response.statusText, body: error, request: { method, url: response.url } });
}

/**
 * A client of the admin API of the emulator at `rootUrl` (`http://127.0.0.1:<port>`, the server's root; a base
 * URL ending in `/api/v1` is accepted too).
 */
export function createAdminClient(rootUrl: string, options: AdminClientOptions = {}): AdminClient {
  const root = rootUrl.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  const baseUrl = `${root}${ADMIN_PREFIX}`;
  const transport: Transport = createTransport({
    fetch: options.fetch ?? ((request) => globalThis.fetch(request)),
    retry: resolveRetryPolicy(options.retry ?? false),
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    baseUrl,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const headers: Record<string, string> = { "User-Agent": options.userAgent ?? DEFAULT_USER_AGENT, ...options.headers };
  const api = createClient<paths>({ baseUrl, fetch: transport, headers });

  const raw = async (method: string, path: string, body?: RequestInit["body"], contentType?: string): Promise<Response> => {
    const requestHeaders = new Headers(headers);
    if (contentType) requestHeaders.set("content-type", contentType);
    const stream = Boolean(body && typeof (body as ReadableStream).getReader === "function");
    const init: RequestInit & { duplex?: "half" } = { method, headers: requestHeaders, body: body ?? null };
    if (stream) init.duplex = "half";
    // A stream (a snapshot read from a file) goes out as it is read, once; bytes are buffered like any body.
    const response = await transport(new Request(`${baseUrl}${path}`, init), { streamBody: stream });
    if (!response.ok) throw await HtcApiError.fromResponse(response, { method, url: `${baseUrl}${path}` });
    return response;
  };

  const changeClock = (body: { advanceSeconds?: number; speed?: number }) => ok("POST", api.POST("/clock", { body }));

  return {
    api,
    baseUrl,
    info: () => ok("GET", api.GET("/info")),
    clock: () => ok("GET", api.GET("/clock")),
    advanceClock: (by) => changeClock({ advanceSeconds: durationSeconds(by) }),
    setSpeed: (factor) => changeClock({ speed: factor }),
    runRetention: () => ok("POST", api.POST("/retention/run")),
    addFault: (rule) => ok("POST", api.POST("/faults", { body: rule })),
    removeFault: (ruleId) => ok("DELETE", api.DELETE("/faults/{ruleId}", { params: { path: { ruleId } } })),
    listFaults: () => ok("GET", api.GET("/faults")),
    getFault: (ruleId) => ok("GET", api.GET("/faults/{ruleId}", { params: { path: { ruleId } } })),
    clearFaults: () => ok("DELETE", api.DELETE("/faults")),
    faultLog: (query = {}) => ok("GET", api.GET("/faults/log", { params: { query } })),
    scheduler: () => ok("GET", api.GET("/scheduler")),
    pause: () => ok("POST", api.POST("/scheduler/pause")),
    resume: () => ok("POST", api.POST("/scheduler/resume")),
    step: (request) => ok("POST", api.POST("/jobs/step", { body: request })),
    reset: (workspaceId) => ok("POST", api.POST("/reset", { body: workspaceId === undefined ? {} : { workspaceId } })),
    async exportSnapshot() {
      const response = await raw("GET", "/snapshot");
      return new Uint8Array(await response.arrayBuffer());
    },
    async importSnapshot(snapshot) {
      const body: RequestInit["body"] = snapshot instanceof Uint8Array ? new Blob([snapshot as Uint8Array<ArrayBuffer>]) : snapshot;
      const response = await raw("POST", "/snapshot", body, "application/octet-stream");
      return (await response.json()) as SnapshotSummary;
    },
    createWorkspace: (workspace) => ok("POST", api.POST("/workspaces", { body: workspace })),
    createUser: (workspaceId, user) =>
      ok("POST", api.POST("/workspaces/{workspaceId}/users", { params: { path: { workspaceId } }, body: user })),
  };
}
