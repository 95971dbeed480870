// The registry's two endpoints on the emulator, outside the HTC contract (under /_emulator/registry):
//   GET  /token   the token realm of the docker token protocol: Basic auth `AWS:<password>` (a password from
//                 GET …/container-registry/token), `service` and `scope` parameters → {token, access_token,
//                 expires_in, issued_at}. `docker login` calls it without a scope to check the password.
//   POST /events  the registry's notifications (manifest pushes and deletes), authenticated by a secret that only
//                 the registry's configuration holds.
import { Hono } from "hono";
import type { AppEnv } from "../http/env.js";
import { credential } from "../http/auth.js";
import { parseScopes } from "./names.js";
import { grantAccess, REGISTRY_USERNAME } from "./token-service.js";

/** The error body of the docker token protocol (`details` is what the Docker client prints). */
function deniedBody(message: string, code: string) {
  return { errors: [{ code, message, detail: null }], details: message };
}

export function registryInternalRoutes(): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();

  routes.get("/token", async (c) => {
    const registry = c.get("registry");
    const fail = (message: string, status: 401 | 503 = 401) => {
      if (status === 401) c.header("WWW-Authenticate", 'Basic realm="htc-emulator registry"');
      return c.json(deniedBody(message, status === 401 ? "UNAUTHORIZED" : "UNAVAILABLE"), status);
    };
    if (!registry.enabled) return fail("the emulator's registry is not running", 503);
    const basic = credential(c.req.header("authorization"), "basic");
    if (!basic)
      return fail(
        `log in first: docker login -u ${REGISTRY_USERNAME} --password-stdin ${registry.host} with the password of GET …/container-registry/token`,
      );
    let decoded: string;
    try {
      decoded = Buffer.from(basic, "base64").toString("utf8");
    } catch {
      return fail("malformed Basic credentials");
    }
    const colon = decoded.indexOf(":");
    const username = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? "" : decoded.slice(colon + 1);
    if (username !== REGISTRY_USERNAME) return fail(`the user name must be ${REGISTRY_USERNAME}`);
    const checked = registry.credentials.check(password);
    if (!checked.ok) return fail(checked.reason);
    const { project_id: projectId, user_id: userId } = checked.credential;
    const scopes = parseScopes(c.req.queries("scope") ?? []);
    const repos = c.get("core").repos.registry;
    const access = grantAccess(projectId, scopes, (repo) => repos.repository(projectId, repo) !== undefined);
    const { token, issuedAt, expiresIn } = await registry.issuer.sign(userId, access);
    return c.json({ token, access_token: token, expires_in: expiresIn, issued_at: issuedAt.toISOString() });
  });

  routes.post("/events", async (c) => {
    const registry = c.get("registry");
    if (credential(c.req.header("authorization"), "bearer") !== registry.notificationSecret) {
      return c.json({ error: "unauthorized", errorDescription: "Only the emulator's registry posts events here." }, 401);
    }
    let body: { events?: unknown };
    try {
      body = (await c.req.json()) as { events?: unknown };
    } catch {
      return c.json({ error: "invalid_request", errorDescription: "The body is not a JSON envelope of events." }, 400);
    }
    if (Array.isArray(body.events)) registry.handleEvents(body.events);
    return c.body(null, 200);
  });

  return routes;
}
