// The HTTP application: every HTC operation under `/api/v1` and again at the root (production answers some
// operations there, and the official tutorial calls them that way), the emulator's own admin API under
// `/_emulator/v1`, the S3-compatible endpoint, the dashboard under `/ui/`, and one error handler that turns every
// failure into the contract's error bodies. The HTC API and the admin API are both served by an
// OperationRegistry, so --strict, fault rules and metrics apply to both. The request inspector, when on, records
// every request but the dashboard's files; the admin token, when one is required, guards the admin API and /ui/.
import { Hono, type MiddlewareHandler } from "hono";
import { registerControlRoutes } from "./admin/controls.js";
import { registerInspectorRoutes } from "./admin/inspector.js";
import { registerLiveRoutes } from "./admin/live.js";
import { registerAdminRoutes } from "./admin/routes.js";
import type { adminOperations as AdminOperationMap, operations } from "./contract-types.js";
import { injectApiFaults } from "./faults/api-faults.js";
import { guardWithAdminToken } from "./http/admin-token.js";
import { ADMIN_PREFIX, API_PREFIX } from "./http/contracts.js";
import type { AppContext, AppEnv, Emulator } from "./http/env.js";
import { errorResponse, jsonAnswer, operationFrame, setEmulator } from "./http/frame.js";
import { Recorder } from "./http/inspect.js";
import { type OperationAround, OperationRegistry } from "./http/router.js";
import { registerUi, UI_PREFIX } from "./http/ui.js";
import { registryInternalRoutes } from "./registry/routes.js";
import { REGISTRY_INTERNAL_PREFIX } from "./registry/service.js";
import { registerAuthRoutes } from "./routes/auth.js";
import { registerJobRoutes } from "./routes/jobs.js";
import { registerProjectRoutes } from "./routes/projects.js";
import { registerProviderRoutes } from "./routes/provider.js";
import { registerRegistryRoutes } from "./routes/registry.js";
import { registerStorageRoutes } from "./routes/storage.js";
import { registerTaskRoutes } from "./routes/tasks.js";
import { registerWorkspaceRoutes } from "./routes/workspace.js";
import { S3_PREFIX } from "./storage/layout.js";
import { s3Routes } from "./storage/s3-routes.js";

/** Every HTC operation the emulator serves, by operationId. */
export function htcOperations(around?: OperationAround): OperationRegistry<operations, true> {
  const api = new OperationRegistry<operations, true>("htc", around);
  registerAuthRoutes(api);
  registerProjectRoutes(api);
  registerTaskRoutes(api);
  registerJobRoutes(api);
  registerWorkspaceRoutes(api);
  registerProviderRoutes(api);
  registerStorageRoutes(api);
  registerRegistryRoutes(api);
  return api;
}

/** Every operation of the emulator's admin API, by operationId. */
export function adminOperations(around?: OperationAround, log: (line: string) => void = () => {}): OperationRegistry<AdminOperationMap> {
  const api = new OperationRegistry<AdminOperationMap>("admin", around);
  registerAdminRoutes(api);
  // Test controls: fault rules, the scheduler's pause and stepping, reset, snapshots.
  registerControlRoutes(api, log);
  // The request inspector and the live feeds of the dashboard.
  registerInspectorRoutes(api);
  registerLiveRoutes(api);
  return api;
}

export interface AppOptions {
  /** When set, the admin API and the dashboard require this token. */
  adminToken?: string;
  /** The dashboard's build folder (undefined: not built). */
  dashboardDir?: string;
}

export function createApp(emulator: Emulator, log: (line: string) => void = () => {}, options: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { logRequests, strict } = emulator.core.options;
  // The request inspector records operations from their frame, and only when it is on: off, requests pay nothing.
  const recorder = emulator.inspector.enabled ? new Recorder(emulator.inspector) : undefined;
  const plainFrame = operationFrame(emulator, { strict, logRequests, log });
  const frame = recorder ? recorder.frame(plainFrame) : plainFrame;

  // Routes that are not operations (the S3 endpoint, the registry's internal routes, unknown paths) get the
  // emulator's parts and their log lines from middleware; operations from their frame (http/frame.ts), which
  // keeps them single-handler routes.
  const others = (): MiddlewareHandler<AppEnv> => async (c, next) => {
    setEmulator(c, emulator);
    const started = logRequests ? performance.now() : 0;
    await next();
    if (logRequests) log(`${c.req.method} ${new URL(c.req.url).pathname} ${c.res.status} ${(performance.now() - started).toFixed(1)}ms`);
  };
  const notFound = (c: AppContext) => {
    if (logRequests) log(`${c.req.method} ${new URL(c.req.url).pathname} 404`);
    const answer = () =>
      jsonAnswer(c, { error: "not_found", errorDescription: `No operation answers ${c.req.method} ${new URL(c.req.url).pathname}.` }, 404);
    // Unknown routes are recorded here (those under a recorded prefix already are, by its middleware).
    if (!recorder || c.get("exchange") !== undefined || c.req.path.startsWith(UI_PREFIX)) return answer();
    const exchange = recorder.open(c);
    return recorder.close(c, exchange, answer());
  };
  const onError = (error: Error, c: AppContext) => errorResponse(error, c, log);

  // Off loopback the admin API and the dashboard require the admin token: checked before their routes.
  if (options.adminToken) guardWithAdminToken(app, options.adminToken, ADMIN_PREFIX, UI_PREFIX, recorder);
  registerUi(app, options.dashboardDir);

  // The admin API is an app of its own, mounted with its full paths: its routes (a literal and a parameter side
  // by side, /faults/log and /faults/{ruleId}) need Hono's tree router, and sharing it would slow every HTC route
  // down (the HTC routes alone run on the faster regular-expression router).
  const admin = new Hono<AppEnv>();
  adminOperations(injectApiFaults, log).mount(admin, ADMIN_PREFIX, frame);
  admin.notFound(notFound);
  admin.onError(onError);
  app.mount(ADMIN_PREFIX, admin.fetch, { replaceRequest: false });

  for (const prefix of [REGISTRY_INTERNAL_PREFIX, S3_PREFIX]) {
    app.use(`${prefix}/*`, others());
    if (recorder) app.use(`${prefix}/*`, recorder.middleware());
  }
  // The registry's token realm and notification endpoint (not HTC operations, not the admin API).
  app.route(REGISTRY_INTERNAL_PREFIX, registryInternalRoutes());
  // The S3-compatible storage endpoint (path-style): <root>/s3/<bucket>/<key>.
  app.route(S3_PREFIX, s3Routes(log));
  const api = htcOperations(injectApiFaults);
  api.mount(app, API_PREFIX, frame);
  api.mount(app, "", frame);
  app.notFound(notFound);
  app.onError(onError);

  return app;
}
