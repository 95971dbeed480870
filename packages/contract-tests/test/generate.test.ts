// The generator on its own (no server): what it produces is invalid by the contract, reproducible from the seed,
// and reaches the kinds of fault each operation's schemas allow.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeBody, type HttpRequestSpec, InvalidRequestGenerator, setAt, UNDECLARED_QUERY_PARAMETER } from "../src/generate.js";
import { contract } from "../src/harness.js";

const generator = new InvalidRequestGenerator(contract, { existing: new Set(["p1", "t1", "1"]), apiKey: "key" });
const base = { query: [] as [string, string][], auth: { kind: "default" as const } };

const baselines: Record<string, HttpRequestSpec> = {
  createProject: {
    ...base,
    method: "POST",
    pathParams: {},
    body: { kind: "json", value: { projectName: "n", projectDescription: "", regions: ["AWS_US_EAST_1"] } },
  },
  submitJobs: {
    ...base,
    method: "POST",
    pathParams: { projectId: "p1", taskId: "t1" },
    query: [["group", "g"]],
    body: {
      kind: "json",
      value: [
        {
          batchSize: 1,
          regions: ["AWS_US_EAST_1"],
          htcJobDefinition: { imageName: "htcemu/shell:1", maxVCpus: 1, envs: [{ name: "A", value: "1" }] },
        },
      ],
    },
  },
  getJobs: {
    ...base,
    method: "GET",
    pathParams: { projectId: "p1", taskId: "t1" },
    query: [
      ["status", "RUNNING"],
      ["pageSize", "10"],
    ],
  },
  getProjectLimit: { ...base, method: "GET", pathParams: { projectId: "p1", id: "1" } },
  createOAuth2Token: { ...base, method: "POST", pathParams: {}, body: { kind: "form", fields: [["grant_type", "client_credentials"]] } },
  getProjectPresignedUrl: { ...base, method: "GET", pathParams: { projectId: "p1" }, query: [["filePath", "a/b.txt"]] },
};

describe("InvalidRequestGenerator", () => {
  for (const [operationId, baseline] of Object.entries(baselines)) {
    it(`${operationId}: the baseline is valid and every generated case is not`, () => {
      const op = contract.getOperation(operationId);
      expect(generator.violations(op, baseline)).toEqual([]);
      const cases = fc.sample(generator.arbitrary(op, baseline)!, { seed: 42, numRuns: 150 });
      for (const invalid of cases) {
        if (invalid.specInvalid) expect(generator.violations(op, invalid.request), `${invalid.kind} at ${invalid.where}`).not.toEqual([]);
        // Never an id that exists, never a path segment that URL normalisation would resolve.
        if (invalid.where.startsWith("path/")) {
          const value = invalid.request.pathParams[invalid.where.slice("path/".length)]!;
          expect(["p1", "t1", "1"]).not.toContain(value);
          expect(value).not.toMatch(/^\.{1,2}$/);
        }
      }
      expect(new Set(cases.map((c) => c.kind)).size).toBeGreaterThan(2);
    });
  }

  it("reaches the faults each schema allows", () => {
    const kinds = (operationId: string) =>
      new Set(
        fc
          .sample(generator.arbitrary(contract.getOperation(operationId), baselines[operationId]!)!, { seed: 7, numRuns: 600 })
          .map((c) => `${c.kind} ${c.where}`),
      );
    const submit = kinds("submitJobs");
    for (const expected of [
      "too-many-items body",
      "too-few-items body",
      "missing-required body/0/htcJobDefinition",
      "missing-required body/0/htcJobDefinition/imageName",
      "out-of-range body/0/batchSize",
      "pattern body/0/htcJobDefinition/imageName",
      "wrong-type body/0/htcJobDefinition/envs/0/name",
      // A nullable member still has a type: null is fine there, other types are not.
      "wrong-type body/0/htcJobDefinition/maxVCpus",
      "out-of-range body/0/htcJobDefinition/maxVCpus",
      "duplicate-items body/0/regions",
      "unknown-id path/projectId",
      "credentials authorization",
      "invalid-json body",
      "wrong-content-type content-type",
    ]) {
      expect(submit, expected).toContain(expected);
    }
    const jobs = kinds("getJobs");
    for (const expected of [
      "unknown-enum query/status",
      "unknown-enum query/viewType",
      "out-of-range query/pageSize",
      "unknown-cursor query/pageIndex",
    ])
      expect(jobs).toContain(expected);
    expect([...kinds("getProjectLimit")].some((k) => k.startsWith("malformed-id path/id"))).toBe(true);
    expect(kinds("getProjectPresignedUrl")).toContain("missing-required query/filePath");
    expect(kinds("createOAuth2Token")).toContain("unknown-enum body/grant_type");
    // Upstream does not ask for distinct regions of a project (the emulator counts a repeated one once).
    expect(kinds("createProject")).not.toContain("duplicate-items body/regions");
  });

  it("is reproducible from the seed", () => {
    const op = contract.getOperation("submitJobs");
    const sample = (seed: number) =>
      fc.sample(generator.arbitrary(op, baselines["submitJobs"]!)!, { seed, numRuns: 30 }).map((c) => encodeBody(c.request.body).payload);
    expect(sample(3)).toEqual(sample(3));
    expect(sample(3)).not.toEqual(sample(4));
  });

  it("fixed cases: missing body, oversized body, invalid JSON, too many batches, no credentials, an undeclared query parameter", () => {
    const op = contract.getOperation("submitJobs");
    const fixed = generator.fixedCases(op, baselines["submitJobs"]!);
    expect(fixed.map((f) => f.kind)).toEqual([
      "missing-body",
      "oversized-body",
      "invalid-json",
      "too-many-items",
      "credentials",
      "undeclared-query",
    ]);
    const oversized = encodeBody(fixed[1]!.request.body).payload!;
    expect(oversized.length).toBeGreaterThan(32 * 1024 * 1024);
    expect(oversized.startsWith("[")).toBe(true);
    expect(() => JSON.parse(oversized)).not.toThrow();
    // One batch over the contract's maxItems (100), each a copy of the baseline's, so only the count is wrong.
    const tooMany = fixed[3]!;
    expect(tooMany.where).toBe("body");
    const batches = (tooMany.request.body as { value: unknown[] }).value;
    expect(batches).toHaveLength(101);
    expect(
      batches.every((b) => JSON.stringify(b) === JSON.stringify((baselines["submitJobs"]!.body as { value: unknown[] }).value[0])),
    ).toBe(true);
    expect(generator.violations(op, tooMany.request).join("\n")).toMatch(/100/);
    // A write: the undeclared parameter rides on invalid JSON, so a server that ignores it still refuses.
    const undeclared = fixed[5]!;
    expect(undeclared.request.query).toContainEqual([UNDECLARED_QUERY_PARAMETER, "1"]);
    expect(undeclared.request.body).toMatchObject({ kind: "raw" });
    expect(undeclared.tolerated).toBeUndefined();
  });

  it("every operation gets an undeclared query parameter, getJwks (no inputs) included; reads may ignore it", () => {
    for (const op of contract.operations) {
      const path = Object.fromEntries(op.parameters.filter((p) => p.in === "path").map((p) => [p.name, "p1"]));
      const baseline: HttpRequestSpec = { ...base, method: op.method, pathParams: path };
      const undeclared = generator.fixedCases(op, baseline).filter((c) => c.kind === "undeclared-query");
      expect(undeclared, op.operationId).toHaveLength(1);
      // (Without the body: the validator stops at a raw body before it looks at the query.)
      expect(generator.violations(op, { ...undeclared[0]!.request, body: undefined }).join("\n"), op.operationId).toContain(
        `'${UNDECLARED_QUERY_PARAMETER}' is not declared`,
      );
      const isWrite = op.method !== "GET";
      const secured = generator.security(op) !== "none";
      // A write that ignored the parameter would act: only public ones (createOAuth2Token) may answer 2xx.
      expect(undeclared[0]!.tolerated === true, op.operationId).toBe(!isWrite || !secured);
    }
    const jwks = generator.fixedCases(contract.getOperation("getJwks"), { ...base, method: "GET", pathParams: {} });
    expect(jwks.map((c) => `${c.kind} ${c.where}`)).toEqual([`undeclared-query query/${UNDECLARED_QUERY_PARAMETER}`]);
    expect(generator.arbitrary(contract.getOperation("getJwks"), { ...base, method: "GET", pathParams: {} })).toBeUndefined();
  });

  it("setAt copies and replaces or deletes deep values", () => {
    const root = { a: [{ b: 1 }, { b: 2 }] };
    expect(setAt(root, ["a", 1, "b"], 3)).toEqual({ a: [{ b: 1 }, { b: 3 }] });
    expect(root.a[1]!.b).toBe(2);
  });
});
