// The emulator's routes and the contract's operations are the same set, seen from outside (the white-box
// comparison of registered operations with openapi/surface.json is apps/emulator/test/request-schemas.test.ts):
// every operation of the contract is routed (no "No operation answers" 404), with and without the /api/v1 prefix,
// and paths and methods outside the contract are not.
import { readFileSync } from "node:fs";
import { surfacePath } from "@htcemu/openapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contract } from "../src/harness.js";
import { IN_FLIGHT_OPERATIONS, NOT_ROUTED, probeOperations, probeRoute, type RouteProbe } from "../src/served.js";
import { resolveTarget, type Target } from "../src/target.js";

let target: Target;

beforeAll(async () => {
  target = await resolveTarget();
}, 90_000);

afterAll(async () => {
  await target?.stop();
});

describe("routes and operations are the same set", () => {
  it("the contract's operations are the surface's 57", () => {
    const surface = JSON.parse(readFileSync(surfacePath, "utf8")) as { method: string; path: string; operationId: string }[];
    expect(contract.operations.map((o) => `${o.method} ${o.path} ${o.operationId}`).sort()).toEqual(
      surface.map((o) => `${o.method} ${o.path} ${o.operationId}`).sort(),
    );
  });

  it("every operation of the contract is routed, under /api/v1 and at the root", async (context) => {
    if (target.kind !== "emulator") context.skip();
    const prefixed = await probeOperations(contract, target.baseUrl);
    const root = await probeOperations(contract, target.rootUrl);
    const describe = (p: RouteProbe) => `${p.operationId}: ${p.method} ${p.url} → ${p.status} ${JSON.stringify(p.body)}`;
    const notRouted = [...prefixed, ...root].filter((p) => !p.routed);
    if (notRouted.length > 0) console.info(`[routes] not served yet:\n  ${notRouted.map(describe).join("\n  ")}`);
    // Only operations still being built may be missing; once served, they must be served under both prefixes.
    expect(notRouted.filter((p) => !IN_FLIGHT_OPERATIONS.includes(p.operationId)).map(describe)).toEqual([]);
    expect(prefixed.filter((p) => !p.routed).map((p) => p.operationId)).toEqual(root.filter((p) => !p.routed).map((p) => p.operationId));
    // A routed operation authenticates first: without credentials it answers as the contract says (401), except
    // the public ones.
    for (const probe of prefixed.filter((p) => p.routed)) {
      const op = contract.getOperation(probe.operationId);
      const isPublic = Array.isArray(op.raw["security"]) && (op.raw["security"] as unknown[]).length === 0;
      if (isPublic) continue;
      expect(probe.status, describe(probe)).toBe(401);
      expect(contract.validateResponse(probe.operationId, probe.status, "application/json", probe.body), describe(probe)).toEqual([]);
    }
  });

  it("paths and methods outside the contract answer the router's 404", async (context) => {
    if (target.kind !== "emulator") context.skip();
    const outside: [string, string][] = [
      ["GET", "/api/v1/htc/nope"],
      ["GET", "/api/v1/htc/projects/p/unknown-resource"],
      ["GET", "/api/v1/htc/projects/p/tasks/t/jobs/j/unknown"],
      ["GET", "/api/v2/htc/projects"],
      ["GET", "/htc/projectz"],
      ["DELETE", "/api/v1/htc/projects/p"],
      ["PUT", "/api/v1/htc/projects"],
      ["POST", "/api/v1/htc/regions"],
      ["PATCH", "/api/v1/auth/token"],
      ["GET", "/api/v1/htc/projects/p/limits/1/extra"],
    ];
    for (const [method, path] of outside) {
      expect(contract.match(method, path), `${method} ${path} is in the contract`).toBeUndefined();
      const probe = await probeRoute(method, target.rootUrl + path);
      expect(probe.routed, `${method} ${path} → ${probe.status} ${JSON.stringify(probe.body)}`).toBe(false);
      expect(probe.body).toMatchObject({ error: "not_found", errorDescription: expect.stringContaining(NOT_ROUTED) });
    }
  });
});
