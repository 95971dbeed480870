import { adminContractPath } from "@htcemu/openapi";
import { describe, expect, it } from "vitest";
import { loadContract, PathMatcher } from "../src/index.js";

const contract = loadContract();

describe("contract.match", () => {
  it("matches with and without the /api/v1 prefix", () => {
    const withPrefix = contract.match("GET", "/api/v1/htc/projects/p1");
    const without = contract.match("get", "/htc/projects/p1");
    expect(withPrefix?.operation.operationId).toBe("getProject");
    expect(without?.operation.operationId).toBe("getProject");
    expect(withPrefix?.params).toEqual({ projectId: "p1" });
  });

  it("ignores the query string", () => {
    expect(contract.match("GET", "/api/v1/htc/projects?pageSize=2")?.operation.operationId).toBe("getProjects");
  });

  it("prefers literal segments over parameters", () => {
    expect(contract.match("POST", "/api/v1/htc/projects/p/tasks/t/jobs/batch")?.operation.operationId).toBe("submitJobs");
    expect(contract.match("POST", "/api/v1/htc/projects/p/tasks/t/jobs/cancel")?.operation.operationId).toBe("cancelJobs");
    expect(contract.match("GET", "/api/v1/htc/projects/p/storage/token")?.operation.operationId).toBe("getProjectStorageToken");
    expect(contract.match("GET", "/api/v1/htc/projects/p/storage/token/AWS_US_WEST_2")?.operation.operationId).toBe(
      "getProjectStorageTokenForRegion",
    );
  });

  it("decodes an encoded colon and slash in parameters", () => {
    const job = contract.match("GET", "/api/v1/htc/projects/p/tasks/t/jobs/5b0c6d7e%3A3");
    expect(job?.operation.operationId).toBe("getJob");
    expect(job?.params).toEqual({ projectId: "p", taskId: "t", jobId: "5b0c6d7e:3" });
    expect(contract.match("GET", "/api/v1/htc/projects/p/tasks/t/jobs/5b0c6d7e:3")?.params["jobId"]).toBe("5b0c6d7e:3");
    const repo = contract.match("POST", "/api/v1/htc/projects/p/container-registry/repo/team%2Fapp");
    expect(repo?.operation.operationId).toBe("createRepo");
    expect(repo?.params["repoName"]).toBe("team/app");
  });

  it("matches host-root paths of the contract", () => {
    expect(contract.match("GET", "/.well-known/jwks.json")?.operation.operationId).toBe("getJwks");
    expect(contract.match("GET", "/api/v1/.well-known/jwks.json")?.operation.operationId).toBe("getJwks");
  });

  it("tells unknown paths from undeclared methods", () => {
    expect(contract.match("DELETE", "/api/v1/htc/projects")).toBeUndefined();
    expect(contract.methodsAt("/api/v1/htc/projects").sort()).toEqual(["GET", "POST"]);
    expect(contract.match("GET", "/api/v1/htc/nothing")).toBeUndefined();
    expect(contract.methodsAt("/api/v1/htc/nothing")).toEqual([]);
    expect(contract.match("GET", "/api/v1/htc/projects//tasks")).toBeUndefined();
  });

  it("knows which paths are its business", () => {
    expect(contract.covers("/_emulator/reset")).toBe(false);
    expect(contract.covers("/api/v1/htc/nothing")).toBe(true);
    expect(contract.covers("/htc/projects")).toBe(true);
  });

  it("looks operations up by id", () => {
    expect(contract.operationIds).toHaveLength(contract.operations.length);
    expect(contract.getOperation("getMetrics")).toMatchObject({ method: "GET", path: "/htc/metrics" });
    expect(contract.findOperation("nope")).toBeUndefined();
    expect(() => contract.getOperation("nope")).toThrow(/unknown operationId/);
  });

  it("resolves shared parameters and responses", () => {
    const op = contract.getOperation("getJobs");
    expect(op.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(["path:projectId", "path:taskId", "query:pageSize", "query:jobId"]),
    );
    expect(op.parameters.find((p) => p.name === "pageSize")?.schema?.pointer).toBe("/components/parameters/PageSize/schema");
    expect(op.responses["404"]?.content["application/json"]?.pointer).toBe(
      "/components/responses/JobNotFound/content/application~1json/schema",
    );
  });
});

describe("another prefix", () => {
  it("loads the admin contract, served under /_emulator/v1", () => {
    const admin = loadContract(adminContractPath, { prefix: "/_emulator/v1" });
    expect(admin.match("GET", "/_emulator/v1/info")?.operation.path).toBe("/info");
    expect(admin.covers("/api/v1/htc/projects")).toBe(false);
    expect(loadContract(adminContractPath, { prefix: "/_emulator/v1" })).toBe(admin);
  });
});

describe("PathMatcher", () => {
  const routes = [
    { method: "GET", path: "/items/{id}" },
    { method: "GET", path: "/items/special" },
    { method: "GET", path: "/items/{id}/parts/{part}" },
    { method: "GET", path: "/files/{name}.json" },
  ];

  it("lets literals win regardless of declaration order", () => {
    for (const list of [routes, [...routes].reverse()]) {
      const matcher = new PathMatcher(list);
      expect(matcher.match("GET", "/items/special")?.route.path).toBe("/items/special");
      expect(matcher.match("GET", "/items/other")?.route.path).toBe("/items/{id}");
    }
  });

  it("matches segments mixing literals and parameters", () => {
    const matcher = new PathMatcher(routes);
    expect(matcher.match("GET", "/files/a%20b.json")?.params).toEqual({ name: "a b" });
    expect(matcher.match("GET", "/files/a.txt")).toBeUndefined();
  });

  it("accepts a custom prefix and keeps malformed escapes raw", () => {
    const matcher = new PathMatcher(routes, { prefix: "/base" });
    expect(matcher.match("GET", "/base/items/x/parts/%E0%A4%A")?.params).toEqual({ id: "x", part: "%E0%A4%A" });
    expect(matcher.match("GET", "/items/x")?.params).toEqual({ id: "x" });
  });
});
