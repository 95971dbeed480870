// The HTTP application: every HTC operation under `/api/v1` and again at the root (production answers some
// operations there, and the official tutorial calls them that way), the emulator's own admin API under
// `/_emulator/v1`, the S3-compatible endpoint, the dashboard under `/ui/`, and one error handler that turns every
// failure into the contract's error bodies. The HTC API and the admin API are both served by an
// OperationRegistry, so --strict, fault rules and metrics apply to both. The request inspector records every
// request but the dashboard's files; the admin token, when one is required, guards the admin API and /ui/.
import { Hono } from "hono";
import { registerControlRoutes } from "./admin/controls.js";
import { registerInspectorRoutes } from "./admin/inspector.js";
import { registerLiveRoutes } from "./admin/live.js";
import { registerAdminRoutes } from "./admin/routes.js";
import type { adminOperations as AdminOperationMap, operations } from "./contract-types.js";
import { ApiError } from "./errors.js";
import { injectApiFaults } from "./faults/api-faults.js";
import { guardWithAdminToken } from "./http/admin-token.js";
import { ADMIN_PREFIX, API_PREFIX } from "./http/contracts.js";
import type { AppEnv, Emulator } from "./http/env.js";
import { inspectRequests } from "./http/inspect.js";
import { answerJson, type OperationAround, OperationRegistry } from "./http/router.js";
import { strictResponses } from "./http/strict.js";
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
  const { core, inspector } = emulator;

  app.use(async (c, next) => {
    c.set("core", core);
    c.set("jobs", emulator.jobs);
    c.set("faults", emulator.faults);
    c.set("registry", emulator.registry);
    c.set("inspector", inspector);
    const started = performance.now();
    await next();
    const operation = c.get("operation");
    if (operation) {
      const code = String(c.res.status);
      if (operation.api === "admin") {
        core.counters.incEmulatorWide("htc_emulator_admin_requests_total", { operation: operation.operationId, code });
      } else {
        const principal = c.get("principal");
        if (principal) core.counters.inc(principal.workspace.id, "htc_api_requests_total", { operation: operation.operationId, code });
      }
    }
    if (core.options.logRequests) {
      log(`${c.req.method} ${new URL(c.req.url).pathname} ${c.res.status} ${(performance.now() - started).toFixed(1)}ms`);
    }
  });

  if (inspector.enabled) app.use(inspectRequests(inspector, UI_PREFIX));
  if (options.adminToken) guardWithAdminToken(app, options.adminToken, ADMIN_PREFIX, UI_PREFIX);
  if (core.options.strict) app.use(strictResponses(log));
  registerUi(app, options.dashboardDir);
  adminOperations(injectApiFaults, log).mount(app, ADMIN_PREFIX);
  // The registry's token realm and notification endpoint (not HTC operations, not the admin API).
  app.route(REGISTRY_INTERNAL_PREFIX, registryInternalRoutes());
  // The S3-compatible storage endpoint (path-style): <root>/s3/<bucket>/<key>.
  app.route(S3_PREFIX, s3Routes(log));
  const api = htcOperations(injectApiFaults);
  api.mount(app, API_PREFIX);
  api.mount(app, "");

  app.notFound((c) =>
    answerJson(c, { error: "not_found", errorDescription: `No operation answers ${c.req.method} ${new URL(c.req.url).pathname}.` }, 404),
  );

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      return answerJson(c, error.body, error.status, Object.keys(error.headers).length ? error.headers : undefined);
    }
    log(`internal error on ${c.req.method} ${c.req.url}: ${(error as Error).stack ?? error}`);
    return answerJson(c, { error: "internal_error", errorDescription: `The emulator failed: ${(error as Error).message}` }, 500);
  });

  return app;
}
