// The HTTP application: every HTC operation under `/api/v1` and again at the root (production answers some
// operations there, and the official tutorial calls them that way), the emulator's own admin API under
// `/_emulator`, and one error handler that turns every failure into the contract's error bodies.
import { Hono } from "hono";
import { controlRoutes } from "./admin/controls.js";
import { ADMIN_PREFIX, adminRoutes } from "./admin/routes.js";
import { injectApiFaults } from "./faults/api-faults.js";
import { ApiError } from "./http/errors.js";
import type { AppEnv } from "./http/env.js";
import { OperationRegistry } from "./http/router.js";
import { strictResponses } from "./http/strict.js";
import { registerAuthRoutes } from "./routes/auth.js";
import { registerJobRoutes } from "./routes/jobs.js";
import { registerProjectRoutes } from "./routes/projects.js";
import { registerProviderRoutes } from "./routes/provider.js";
import { registerStorageRoutes } from "./routes/storage.js";
import { registerRegistryRoutes } from "./routes/registry.js";
import { registerTaskRoutes } from "./routes/tasks.js";
import { registerWorkspaceRoutes } from "./routes/workspace.js";
import { REGISTRY_INTERNAL_PREFIX } from "./registry/service.js";
import { registryInternalRoutes } from "./registry/routes.js";
import type { Services } from "./services.js";
import { S3_PREFIX, s3Routes } from "./storage/s3-routes.js";

export const API_PREFIX = "/api/v1";

/** Every HTC operation the emulator serves, by operationId. */
export function htcOperations(): OperationRegistry {
  const api = new OperationRegistry();
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

export function createApp(services: Services, log: (line: string) => void = () => {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    c.set("services", services);
    const started = performance.now();
    await next();
    const operation = c.get("operationId");
    const principal = c.get("principal");
    if (operation && principal) {
      services.counters.inc(principal.workspace.id, "htc_api_requests_total", { operation, code: String(c.res.status) });
    }
    if (services.options.logRequests) {
      log(`${c.req.method} ${new URL(c.req.url).pathname} ${c.res.status} ${(performance.now() - started).toFixed(1)}ms`);
    }
  });

  if (services.options.strict) app.use(strictResponses(log));
  app.route(ADMIN_PREFIX, adminRoutes(() => ({ executor: services.executorName() })));
  // Test controls: fault rules, the scheduler's pause and stepping, reset, snapshots.
  app.route(ADMIN_PREFIX, controlRoutes(log));
  // The registry's token realm and notification endpoint (not HTC operations, not the admin API).
  app.route(REGISTRY_INTERNAL_PREFIX, registryInternalRoutes());
  // The S3-compatible storage endpoint (path-style): <root>/s3/<bucket>/<key>.
  app.route(S3_PREFIX, s3Routes(log));
  const api = htcOperations();
  api.around = injectApiFaults;
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
