// The HTTP layer's own rules, without an emulator: an OperationRegistry answers with the status its contract
// declares and the body the handler returns (a wrong body does not compile), and --strict checks the responses of
// both APIs against their own descriptions.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { adminOperations, operations } from "../src/contract-types.js";
import type { AppEnv } from "../src/http/env.js";
import { OperationRegistry } from "../src/http/router.js";
import { checkedResponse } from "../src/http/strict.js";

function appWith(api: OperationRegistry<unknown>, prefix: string, strict = false): { app: Hono<AppEnv>; lines: string[] } {
  const app = new Hono<AppEnv>();
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  // --strict as the emulator's operation frame applies it (http/frame.ts).
  if (strict) api.mount(app, prefix, async (c, operation, run) => checkedResponse(operation, await run(c), log));
  else api.mount(app, prefix);
  return { app, lines };
}

describe("OperationRegistry", () => {
  it("answers with the declared success status and the handler's body: JSON, nothing, text or a whole Response", async () => {
    const api = new OperationRegistry<adminOperations>("admin");
    api.add({
      operationId: "createWorkspace",
      method: "POST",
      path: "/workspaces",
      status: 201,
      auth: "none",
      handler: () => ({ id: "01-0000001", name: "w", organizationCode: null, vCPUs: null, createdAt: "2025-01-01T00:00:00.000Z" }),
    });
    api.add({ operationId: "deleteApiKey", method: "DELETE", path: "/api-keys/{apiKey}", status: 204, auth: "none", handler: () => {} });
    api.add({
      operationId: "exportSnapshot",
      method: "GET",
      path: "/snapshot",
      auth: "none",
      handler: () => new Response("bytes", { headers: { "content-type": "application/octet-stream" } }),
    });
    const { app } = appWith(api, "/admin");

    const created = await app.request("/admin/workspaces", { method: "POST" });
    expect(created.status).toBe(201);
    expect(created.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await created.json()).toMatchObject({ id: "01-0000001" });
    const deleted = await app.request("/admin/api-keys/k", { method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    const snapshot = await app.request("/admin/snapshot");
    expect(snapshot.headers.get("content-type")).toBe("application/octet-stream");
    expect(await snapshot.text()).toBe("bytes");
  });

  it("sends text as text/plain unless the handler chose its media type", async () => {
    const api = new OperationRegistry<operations>("htc");
    api.add({ operationId: "getRegistryToken", method: "GET", path: "/token", auth: "none", handler: () => "secret" });
    api.add({
      operationId: "getMetrics",
      method: "GET",
      path: "/metrics",
      auth: "none",
      handler: (c) => {
        c.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        return "# metrics\n";
      },
    });
    const { app } = appWith(api, "");
    const token = await app.request("/token");
    expect(token.headers.get("content-type")).toMatch(/^text\/plain;\s*charset=utf-8$/i);
    expect(await token.text()).toBe("secret");
    expect((await app.request("/metrics")).headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  });

  it("does not compile a handler whose body drifts from the contract, or a missing success status", () => {
    const api = new OperationRegistry<adminOperations>("admin");
    const register = () => {
      api.add({
        operationId: "getClock",
        method: "GET",
        path: "/clock",
        auth: "none",
        // @ts-expect-error `speed` must be a number (Clock in openapi/admin/admin.yaml)
        handler: () => ({ now: "2025-01-01T00:00:00.000Z", speed: "fast" }),
      });
      // @ts-expect-error createWorkspace answers 201: the registration must say so
      api.add({
        operationId: "createWorkspace",
        method: "POST",
        path: "/workspaces",
        auth: "none",
        handler: () => ({ id: "w", name: "w", organizationCode: null, vCPUs: null, createdAt: "2025-01-01T00:00:00.000Z" }),
      });
      api.add({
        // @ts-expect-error not an operation of the admin API
        operationId: "getProjects",
        method: "GET",
        path: "/projects",
        handler: () => [],
      });
    };
    expect(register).toBeTypeOf("function");
  });
});

describe("--strict", () => {
  const clockApi = (speed: unknown) => {
    const api = new OperationRegistry<adminOperations>("admin");
    api.add({
      operationId: "getClock",
      method: "GET",
      path: "/clock",
      auth: "none",
      handler: () => ({ now: "2025-01-01T00:00:00.000Z", speed }) as never,
    });
    return api;
  };

  it("checks admin operations against the admin API's description", async () => {
    const good = appWith(clockApi(1), "/_emulator/v1", true);
    expect((await good.app.request("/_emulator/v1/clock")).status).toBe(200);
    expect(good.lines).toEqual([]);

    const drifted = appWith(clockApi("fast"), "/_emulator/v1", true);
    const answer = await drifted.app.request("/_emulator/v1/clock");
    expect(answer.status).toBe(500);
    expect(answer.headers.get("x-htc-emulator-contract-violation")).toBe("1");
    expect(drifted.lines.join("\n")).toMatch(/^STRICT: response of getClock \(200\) does not match the contract/);
  });

  it("checks HTC operations against the HTC contract", async () => {
    const api = new OperationRegistry<operations>("htc");
    api.add({
      operationId: "getJwks",
      method: "GET",
      path: "/.well-known/jwks.json",
      auth: "none",
      handler: () => ({ keys: "none" }) as never,
    });
    const { app, lines } = appWith(api, "/api/v1", true);
    expect((await app.request("/api/v1/.well-known/jwks.json")).status).toBe(500);
    expect(lines.join("\n")).toContain("response of getJwks (200)");
  });
});
