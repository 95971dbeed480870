// Cursors without a server: the suite reads them only as the contract documents them (the `pageIndex` of a
// `next` link), generates unknown ones without assuming a format, and judges the answers by the contract alone.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BadInputTally, nextCursor } from "../src/bad-input.js";
import { type HttpRequestSpec, type InvalidRequest, InvalidRequestGenerator } from "../src/generate.js";
import { contract } from "../src/harness.js";

const generator = new InvalidRequestGenerator(contract, { existing: new Set(["p1", "t1"]) });
const getTasks = contract.getOperation("getTasks");
const baseline: HttpRequestSpec = {
  method: "GET",
  pathParams: { projectId: "p1" },
  query: [
    ["pageSize", "1"],
    ["pageIndex", "cursor-from-next"],
  ],
  auth: { kind: "default" },
};

describe("nextCursor", () => {
  it("takes the pageIndex of the next link, whatever it looks like", () => {
    expect(nextCursor({ items: [], next: "https://htc.example/api/v1/htc/projects?pageSize=1&pageIndex=AbC-_9" })).toBe("AbC-_9");
    expect(nextCursor({ items: [], next: "http://127.0.0.1:1/api/v1/htc/projects/p/tasks?pageIndex=%2F%3D%3D&pageSize=1" })).toBe("/==");
  });

  it("finds none on the last page, in a link without a cursor, or in what is not a page", () => {
    expect(nextCursor({ items: [] })).toBeUndefined();
    expect(nextCursor({ items: [], next: "https://htc.example/api/v1/htc/projects?pageSize=1" })).toBeUndefined();
    expect(nextCursor({ items: [], next: "https://htc.example/api/v1/htc/projects?pageIndex=" })).toBeUndefined();
    expect(nextCursor({ items: [], next: "not a URL" })).toBeUndefined();
    expect(nextCursor({ items: [], next: null })).toBeUndefined();
    expect(nextCursor(["a", "b"])).toBeUndefined();
    expect(nextCursor(undefined)).toBeUndefined();
  });
});

describe("unknown cursors", () => {
  const cases = fc.sample(generator.arbitrary(getTasks, baseline)!, { seed: 11, numRuns: 800 }).filter((c) => c.kind === "unknown-cursor");

  it("replace the cursor the server gave out, change nothing else, and may be ignored by a read", () => {
    expect(cases.length).toBeGreaterThan(10);
    for (const c of cases) {
      expect(c.where).toBe("query/pageIndex");
      expect(c.specInvalid).toBe(false);
      expect(c.tolerated).toBe(true);
      const cursor = c.request.query.filter(([key]) => key === "pageIndex");
      expect(cursor).toHaveLength(1);
      expect(cursor[0]![1]).not.toBe("cursor-from-next");
      expect(c.request.query.filter(([key]) => key !== "pageIndex")).toEqual([["pageSize", "1"]]);
    }
    // Opaque values of every shape: nothing is filtered by what one server's cursors look like.
    expect(new Set(cases.map((c) => c.request.query.find(([key]) => key === "pageIndex")![1])).size).toBeGreaterThan(cases.length / 2);
  });

  it("are generated for every operation that declares pageIndex", () => {
    for (const op of contract.operations.filter((o) => o.parameters.some((p) => p.name === "pageIndex"))) {
      const path = Object.fromEntries(op.parameters.filter((p) => p.in === "path").map((p) => [p.name, "p1"]));
      const kinds = fc.sample(generator.arbitrary(op, { method: op.method, pathParams: path, query: [], auth: { kind: "default" } })!, {
        seed: 5,
        numRuns: 600,
      });
      expect(
        kinds.some((c) => c.kind === "unknown-cursor"),
        op.operationId,
      ).toBe(true);
    }
  });

  it("are judged by the contract: a declared 4xx or the contract's page passes, a 5xx or a page the contract does not describe fails", () => {
    const tally = new BadInputTally(contract);
    const unknown: InvalidRequest = cases[0]!;
    const json = "application/json";
    expect(
      tally.judge(getTasks, unknown, {
        status: 400,
        contentType: json,
        body: { errorType: "VALIDATION_ERROR", errorDescription: "pageIndex: unknown", message: null },
      }),
    ).toBeUndefined();
    expect(tally.judge(getTasks, unknown, { status: 200, contentType: json, body: { items: [] } })).toBeUndefined();
    expect(tally.judge(getTasks, unknown, { status: 200, contentType: json, body: { items: "none" } })?.problem).toBe("contract");
    expect(tally.judge(getTasks, unknown, { status: 500, contentType: json, body: {} })?.problem).toBe("5xx");
    expect(tally.toleratedByKind.get("unknown-cursor")).toBe(2);
  });
});
