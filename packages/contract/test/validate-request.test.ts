import { describe, expect, it } from "vitest";
import { loadContract } from "../src/index.js";
import { JOBS, submittedBatch } from "./fixtures.js";

const contract = loadContract();
const json = { "content-type": "application/json" };

describe("validateRequest: parameters", () => {
  it("coerces integer query values", () => {
    expect(contract.validateRequest({ method: "GET", path: `${JOBS}?pageSize=50` })).toEqual([]);
    expect(contract.validateRequest({ method: "GET", path: JOBS, query: { pageSize: "abc" } })).toEqual([
      expect.objectContaining({ in: "query", pointer: "/pageSize", keyword: "type", message: "must be integer" }),
    ]);
    expect(contract.validateRequest({ method: "GET", path: JOBS, query: "pageSize=0" })).toEqual([
      expect.objectContaining({ in: "query", pointer: "/pageSize", keyword: "minimum" }),
    ]);
  });

  it("coerces boolean query values", () => {
    expect(contract.validateRequest({ method: "GET", path: "/api/v1/htc/projects?onlyMyProjects=true" })).toEqual([]);
    expect(contract.validateRequest({ method: "GET", path: "/api/v1/htc/projects?onlyMyProjects=yes" })).toEqual([
      expect.objectContaining({ pointer: "/onlyMyProjects", message: "must be boolean" }),
    ]);
  });

  it("builds arrays from repeated keys", () => {
    const query = new URLSearchParams([
      ["jobId", "a:0"],
      ["jobId", "a:1"],
      ["status", "RUNNING"],
    ]);
    expect(contract.validateRequest({ method: "GET", path: JOBS, query })).toEqual([]);
    expect(contract.validateRequest({ method: "GET", path: JOBS, query: { jobId: ["a:0", "a:1"] } })).toEqual([]);
    expect(contract.validateRequest({ method: "GET", path: `${JOBS}?jobId=a:0` })).toEqual([]);
  });

  it("refuses repeated keys for parameters that are not arrays", () => {
    expect(contract.validateRequest({ method: "GET", path: `${JOBS}?pageSize=1&pageSize=2` })).toEqual([
      expect.objectContaining({ in: "query", pointer: "/pageSize", message: expect.stringMatching(/not an array/) }),
    ]);
  });

  it("checks enums reached through $ref", () => {
    expect(contract.validateRequest({ method: "GET", path: `${JOBS}?status=DONE` })).toEqual([
      expect.objectContaining({ pointer: "/status", keyword: "enum" }),
    ]);
  });

  it("reports missing required and undeclared query parameters", () => {
    const path = "/api/v1/htc/projects/p1/storage/presigned-url";
    expect(contract.validateRequest({ method: "GET", path })).toEqual([
      expect.objectContaining({ in: "query", pointer: "/filePath", message: "missing required query parameter 'filePath'" }),
    ]);
    expect(contract.validateRequest({ method: "GET", path: `${path}?filePath=inputs/a.txt&method=GET` })).toEqual([]);
    expect(contract.validateRequest({ method: "GET", path: `${path}?filePath=` })).toEqual([
      expect.objectContaining({ pointer: "/filePath", keyword: "minLength" }),
    ]);
    // Like upstream, the contract asks no more of it; the emulator refuses keys outside the folder itself.
    expect(contract.validateRequest({ method: "GET", path: `${path}?filePath=../a.txt` })).toEqual([]);
    expect(contract.validateRequest({ method: "GET", path: `${JOBS}?pagesize=5` })).toEqual([
      expect.objectContaining({ in: "query", pointer: "/pagesize", message: "query parameter 'pagesize' is not declared" }),
    ]);
  });

  it("coerces path parameters", () => {
    expect(contract.validateRequest({ method: "GET", path: "/api/v1/htc/projects/p1/limits/3" })).toEqual([]);
    expect(contract.validateRequest({ method: "GET", path: "/api/v1/htc/projects/p1/limits/three" })).toEqual([
      expect.objectContaining({ in: "path", pointer: "/id", message: "must be integer" }),
    ]);
    expect(contract.validateRequest({ method: "GET", path: "/api/v1/htc/regions/MARS_1" })).toEqual([
      expect.objectContaining({ in: "path", pointer: "/region", keyword: "enum" }),
    ]);
  });

  it("splits comma-separated header arrays", () => {
    const headers = new Headers({ "Accept-Encoding": "gzip, br" });
    expect(contract.validateRequest({ method: "GET", path: "/api/v1/htc/metrics", headers })).toEqual([]);
    expect(contract.validateRequest({ method: "GET", path: "/api/v1/htc/metrics", headers: { "accept-encoding": "gzip, gzip" } })).toEqual([
      expect.objectContaining({ in: "header", pointer: "/Accept-Encoding", keyword: "uniqueItems" }),
    ]);
  });

  it("reports unknown operations", () => {
    expect(contract.validateRequest({ method: "DELETE", path: "/api/v1/htc/projects" })).toEqual([
      expect.objectContaining({ in: "operation", message: expect.stringMatching(/declared: (GET, POST|POST, GET)/) }),
    ]);
    expect(contract.validateRequest({ method: "GET", path: "/api/v1/htc/nothing" })).toEqual([
      expect.objectContaining({ in: "operation", message: "no operation matches GET /api/v1/htc/nothing" }),
    ]);
  });
});

describe("validateRequest: bodies", () => {
  const submit = `${JOBS}/batch`;

  it("does not require readOnly members", () => {
    expect(contract.validateRequest({ method: "POST", path: submit, headers: json, body: [submittedBatch()] })).toEqual([]);
  });

  it("does not validate readOnly members that are sent anyway", () => {
    const batch = { ...submittedBatch(), parentJobId: 42, rescaleTimeReceived: "not a date" };
    expect(contract.validateRequest({ method: "POST", path: submit, headers: json, body: [batch] })).toEqual([]);
  });

  it("validates the other members", () => {
    const { htcJobDefinition: _, ...batch } = submittedBatch();
    expect(
      contract.validateRequest({ method: "POST", path: submit, headers: json, body: [batch, { ...submittedBatch(), batchSize: 0 }] }),
    ).toEqual([
      expect.objectContaining({ in: "body", pointer: "/0/htcJobDefinition", keyword: "required" }),
      expect.objectContaining({ in: "body", pointer: "/1/batchSize", keyword: "minimum" }),
    ]);
  });

  it("requires a required body and refuses one where none is declared", () => {
    expect(contract.validateRequest({ method: "POST", path: submit, headers: json })).toEqual([
      expect.objectContaining({ in: "body", message: "the request body is required" }),
    ]);
    expect(contract.validateRequest({ method: "GET", path: "/api/v1/htc/projects/p1", headers: json, body: {} })).toEqual([
      expect.objectContaining({ in: "body", message: "getProject declares no request body" }),
    ]);
  });

  it("checks the request content type", () => {
    expect(contract.validateRequest({ method: "POST", path: submit, headers: { "Content-Type": "text/plain" }, body: "[]" })).toEqual([
      expect.objectContaining({ in: "contentType" }),
    ]);
  });

  it("validates urlencoded bodies field by field", () => {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const path = "/api/v1/oauth2/token";
    expect(
      contract.validateRequest({ method: "POST", path, headers: form, body: "grant_type=client_credentials&client_secret=k1" }),
    ).toEqual([]);
    expect(
      contract.validateRequest({ method: "POST", path, headers: form, body: new URLSearchParams({ grant_type: "password" }) }),
    ).toEqual([expect.objectContaining({ in: "body", pointer: "/grant_type", keyword: "enum" })]);
    expect(contract.validateRequest({ method: "POST", path })).toEqual([]);
  });
});
