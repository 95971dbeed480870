// The HTTP application: every HTC operation under `/api/v1` and again at the root (production answers some
// operations there, and the official tutorial calls them that way), the emulator's own admin API under
// `/_emulator/v1`, the S3-compatible endpoint, and one error handler that turns every failure into the
// contract's error bodies. The HTC API and the admin API are both served by an OperationRegistry, so --strict,
// fault rules and metrics apply to both.
import { Hono } from "hono";
import { registerControlRoutes } from "./admin/controls.js";
import { registerAdminRoutes } from "./admin/routes.js";
import type { adminOperations as AdminOperationMap, operations } from "./contract-types.js";
import { ApiError } from "./errors.js";
import { injectApiFaults } from "./faults/api-faults.js";
import { ADMIN_PREFIX, API_PREFIX } from "./http/contracts.js";
import { seriesKey } from "./domain/counters.js";
import type { AppEnv, Emulator, ServedOperation } from "./http/env.js";
import { type OperationAround, OperationRegistry } from "./http/router.js";
import { strictResponses } from "./http/strict.js";
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
export function htcOperations(around?: OperationAround): OperationRegistry<operations> {
  const api = new OperationRegistry<operations>("htc", around);
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
  return api;
}

export function createApp(emulator: Emulator, log: (line: string) => void = () => {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { core } = emulator;

  // The request counter's series of each operation and status, named once (naming costs more than counting).
  const series = new Map<ServedOperation, Map<number, string>>();
  const seriesOf = (operation: ServedOperation, status: number): string => {
    let byStatus = series.get(operation);
    if (!byStatus) {
      byStatus = new Map();
      series.set(operation, byStatus);
    }
    let key = byStatus.get(status);
    if (key === undefined) {
      const name = operation.api === "admin" ? "htc_emulator_admin_requests_total" : "htc_api_requests_total";
      key = seriesKey(name, { operation: operation.operationId, code: String(status) });
      byStatus.set(status, key);
    }
    return key;
  };
  const logRequests = core.options.logRequests;

  app.use(async (c, next) => {
    c.set("core", core);
    c.set("jobs", emulator.jobs);
    c.set("faults", emulator.faults);
    c.set("registry", emulator.registry);
    const started = logRequests ? performance.now() : 0;
    await next();
    const operation = c.get("operation");
    if (operation) {
      if (operation.api === "admin") core.counters.incEmulatorSeries(seriesOf(operation, c.res.status));
      else {
        const principal = c.get("principal");
        if (principal) core.counters.incSeries(principal.workspace.id, seriesOf(operation, c.res.status));
      }
    }
    if (logRequests) {
      log(`${c.req.method} ${new URL(c.req.url).pathname} ${c.res.status} ${(performance.now() - started).toFixed(1)}ms`);
    }
  });

  if (core.options.strict) app.use(strictResponses(log));
  adminOperations(injectApiFaults, log).mount(app, ADMIN_PREFIX);
  // The registry's token realm and notification endpoint (not HTC operations, not the admin API).
  app.route(REGISTRY_INTERNAL_PREFIX, registryInternalRoutes());
  // The S3-compatible storage endpoint (path-style): <root>/s3/<bucket>/<key>.
  app.route(S3_PREFIX, s3Routes(log));
  const api = htcOperations(injectApiFaults);
  api.mount(app, API_PREFIX);
  api.mount(app, "");

  app.notFound((c) =>
    c.json({ error: "not_found", errorDescription: `No operation answers ${c.req.method} ${new URL(c.req.url).pathname}.` }, 404),
  );

  app.onError((error, c) => {
    if (error instanceof ApiError) {
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      return c.json(error.body, error.status);
    }
    log(`internal error on ${c.req.method} ${c.req.url}: ${(error as Error).stack ?? error}`);
    return c.json({ error: "internal_error", errorDescription: `The emulator failed: ${(error as Error).message}` }, 500);
  });

  return app;
}
