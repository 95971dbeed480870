import { describe, expect, it } from "vitest";
import { createContract, loadContract, type OpenApiDocument } from "../src/index.js";
import { acceptedBatch, completeBatch, completeJob, JOBS, validProject, validTask } from "./fixtures.js";

const contract = loadContract();

describe("validateResponse (real contract)", () => {
  it("accepts a valid body", () => {
    expect(contract.validateResponse("getProject", 200, "application/json", validProject())).toEqual([]);
    expect(contract.validateResponse("getTask", 200, "application/json; charset=utf-8", validTask())).toEqual([]);
  });

  it("reports a missing required field with its pointer", () => {
    const { projectName: _, ...body } = validProject();
    const violations = contract.validateResponse("getProject", 200, "application/json", body);
    expect(violations).toEqual([
      expect.objectContaining({ in: "body", pointer: "/projectName", keyword: "required", operationId: "getProject" }),
    ]);
  });

  it("reports a value outside an enum", () => {
    const task = { ...validTask(), lifecycleStatus: "PAUSED" };
    expect(contract.validateResponse("getTask", 200, "application/json", task)).toEqual([
      expect.objectContaining({ in: "body", pointer: "/lifecycleStatus", keyword: "enum" }),
    ]);
    const jobs = contract.validateResponse("getJobs", 200, "application/json", { items: [{ status: "BOGUS" }] });
    expect(jobs).toContainEqual(expect.objectContaining({ pointer: "/items/0/status", keyword: "enum" }));
  });

  it("reports null where the field is not nullable, and accepts it where it is", () => {
    const violations = contract.validateResponse("getProject", 200, "application/json", { ...validProject(), projectName: null });
    expect(violations).toEqual([expect.objectContaining({ pointer: "/projectName", keyword: "type", message: "must be string" })]);
    expect(contract.validateResponse("getProject", 200, "application/json", { ...validProject(), organizationCode: "acme" })).toEqual([]);
  });

  it("checks formats", () => {
    const violations = contract.validateResponse("getProject", 200, "application/json", { ...validProject(), createdAt: "yesterday" });
    expect(violations).toEqual([expect.objectContaining({ pointer: "/createdAt", keyword: "format" })]);
  });

  it("tolerates unknown extra fields", () => {
    expect(contract.validateResponse("getProject", 200, "application/json", { ...validProject(), extra: 1 })).toEqual([]);
  });

  it("reports a content type that is not declared", () => {
    expect(contract.validateResponse("getProject", 200, "text/html", "<html>")).toEqual([expect.objectContaining({ in: "contentType" })]);
    expect(contract.validateResponse("getMetrics", 200, "application/json", "x 1")).toEqual([
      expect.objectContaining({ in: "contentType" }),
    ]);
    expect(contract.validateResponse("getProject", 200, undefined, validProject())).toEqual([
      expect.objectContaining({ in: "contentType", message: expect.stringMatching(/missing/) }),
    ]);
  });

  it("compares media types without their parameters", () => {
    const metrics = "# TYPE htc_job_limit_vcpus gauge\nhtc_job_limit_vcpus 64\n";
    expect(contract.validateResponse("getMetrics", 200, "text/plain; version=0.0.4; charset=utf-8", metrics)).toEqual([]);
    expect(contract.validateResponse("getRegistryToken", 200, "Text/Plain;charset=UTF-8", "c2VjcmV0")).toEqual([]);
    expect(contract.validateResponse("getRegistryToken", 200, "text/plain", "")).toEqual([
      expect.objectContaining({ in: "body", keyword: "minLength" }),
    ]);
  });

  it("reports a status that is not declared", () => {
    expect(contract.validateResponse("getProject", 500, "application/json", {})).toEqual([
      expect.objectContaining({ in: "status", message: expect.stringMatching(/500 is not declared/) }),
    ]);
    expect(contract.validateResponse("getProject", 201, "application/json", validProject())).toEqual([
      expect.objectContaining({ in: "status" }),
    ]);
  });

  it("validates shared error responses with their own schema", () => {
    const requestError = { errorType: "NOT_FOUND", errorDescription: "no such task", message: null };
    expect(contract.validateResponse("getJobs", 404, "application/json", requestError)).toEqual([]);
    // getJobs' 404 is an HTCRequestError, not an OAuth2 error body: its members have other types, and an
    // OAuth2 body lacks them (which only the emulator's guarantee, allDeclaredPresent, turns into a violation).
    expect(contract.validateResponse("getJobs", 404, "application/json", { errorType: 404 }).length).toBeGreaterThan(0);
    expect(contract.validateResponse("getJobs", 404, "application/json", { error: "not_found" })).toEqual([]);
    expect(
      contract
        .validateResponse("getJobs", 404, "application/json", { error: "not_found" }, { allDeclaredPresent: true })
        .map((v) => v.pointer),
    ).toEqual(["/errorType", "/errorDescription", "/message"]);
  });

  it("handles responses without a body", () => {
    expect(contract.validateResponse("deleteProjectLimits", 204, null, undefined)).toEqual([]);
    expect(contract.validateResponse("deleteProjectLimits", 204, "application/json", { x: 1 })).toEqual([
      expect.objectContaining({ in: "body", message: expect.stringMatching(/declares no body/) }),
    ]);
    expect(contract.validateResponse("getProject", 200, "application/json", undefined)).toEqual([
      expect.objectContaining({ in: "body", message: "the response has no body" }),
    ]);
  });

  it("finds the operation from a method and a concrete path", () => {
    expect(
      contract.validateResponse({ method: "GET", path: "/api/v1/htc/projects/p1?x=1" }, 200, "application/json", validProject()),
    ).toEqual([]);
    expect(contract.validateResponse({ method: "GET", path: "/api/v1/nope" }, 200, "application/json", {})).toEqual([
      expect.objectContaining({ in: "operation" }),
    ]);
    expect(contract.validateResponse("noSuchOperation", 200, "application/json", {})).toEqual([
      expect.objectContaining({ in: "operation", message: "unknown operationId: noSuchOperation" }),
    ]);
  });

  it("holds responses only to what upstream requires: other members may be missing", () => {
    expect(contract.validateResponse("submitJobs", 200, "application/json", [acceptedBatch()])).toEqual([]);
    const { parentJobId: _, ...batch } = acceptedBatch();
    expect(contract.validateResponse({ method: "POST", path: `${JOBS}/batch` }, 200, "application/json", [batch])).toEqual([]);
    // htcJobDefinition (and its imageName) is required upstream.
    const { htcJobDefinition: __, ...bare } = acceptedBatch();
    expect(contract.validateResponse("submitJobs", 200, "application/json", [bare])).toEqual([
      expect.objectContaining({ pointer: "/0/htcJobDefinition", keyword: "required" }),
    ]);
  });
});

describe("validateResponse with allDeclaredPresent (the emulator's guarantee)", () => {
  const all = { allDeclaredPresent: true };

  it("demands every declared member, read-only ones included, at any depth", () => {
    const { parentJobId: _, ...batch } = completeBatch();
    const violations = contract.validateResponse("submitJobs", 200, "application/json", [batch], all);
    expect(violations).toEqual([
      expect.objectContaining({
        pointer: "/0/parentJobId",
        keyword: "required",
        message: "must be present: every member the schema declares is sent, null when it has no value",
      }),
    ]);
    const { maxDiskGiB: __, ...definition } = completeBatch().htcJobDefinition as Record<string, unknown>;
    expect(
      contract.validateResponse("submitJobs", 200, "application/json", [{ ...completeBatch(), htcJobDefinition: definition }], all),
    ).toEqual([expect.objectContaining({ pointer: "/0/htcJobDefinition/maxDiskGiB" })]);
    expect(contract.validateResponse("submitJobs", 200, "application/json", [completeBatch()], all)).toEqual([]);
  });

  it("takes null where the contract allows it, and nothing else", () => {
    expect(contract.validateResponse("submitJobs", 200, "application/json", [{ ...completeBatch(), group: null }], all)).toEqual([]);
    expect(contract.validateResponse("submitJobs", 200, "application/json", [{ ...completeBatch(), taskId: null }], all)).toEqual([
      expect.objectContaining({ pointer: "/0/taskId", keyword: "type" }),
    ]);
  });

  it("lets a page leave out its next link (x-htc-absent-when-unset), and only that", () => {
    expect(contract.validateResponse("getTasks", 200, "application/json", { items: [validTask()] }, all)).toEqual([]);
    expect(contract.validateResponse("getTasks", 200, "application/json", {}, all)).toEqual([
      expect.objectContaining({ pointer: "/items" }),
    ]);
    // A nullable object that is null has no members to demand.
    const job = { ...completeJob(), container: null, instanceLabels: null, jobExecutionEnvironment: null };
    expect(contract.validateResponse("getJob", 200, "application/json", job, all)).toEqual([]);
    const { instanceId: ___, ...environment } = completeJob().jobExecutionEnvironment;
    expect(
      contract.validateResponse("getJob", 200, "application/json", { ...completeJob(), jobExecutionEnvironment: environment }, all),
    ).toEqual([expect.objectContaining({ pointer: "/jobExecutionEnvironment/instanceId" })]);
  });

  it("does not demand writeOnly members", () => {
    const document: OpenApiDocument = {
      openapi: "3.1.0",
      info: { title: "t", version: "1" },
      paths: {
        "/users": {
          get: {
            operationId: "getUser",
            responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/User" } } } } },
          },
        },
      },
      components: {
        schemas: {
          User: { type: "object", properties: { id: { type: "string" }, password: { type: "string", writeOnly: true } } },
        },
      },
    };
    const users = createContract(document);
    expect(users.validateResponse("getUser", 200, "application/json", { id: "u1" }, all)).toEqual([]);
    expect(users.validateResponse("getUser", 200, "application/json", {}, all)).toEqual([expect.objectContaining({ pointer: "/id" })]);
  });
});

describe("writeOnly members in responses", () => {
  // The real contract has no writeOnly member in a shared schema yet, so this uses a minimal document.
  const document: OpenApiDocument = {
    openapi: "3.1.0",
    info: { title: "t", version: "1" },
    paths: {
      "/users": {
        post: {
          operationId: "createUser",
          requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/User" } } } },
          responses: { "200": { description: "ok", content: { "application/json": { schema: { $ref: "#/components/schemas/User" } } } } },
        },
      },
    },
    components: {
      schemas: {
        Secret: { type: "string", minLength: 8, writeOnly: true },
        User: {
          type: "object",
          required: ["id", "name", "password", "pin"],
          properties: {
            id: { type: "string", readOnly: true },
            name: { type: "string" },
            password: { type: "string", writeOnly: true },
            pin: { allOf: [{ $ref: "#/components/schemas/Secret" }] },
          },
        },
      },
    },
  };
  const users = createContract(document);

  it("does not require writeOnly members in responses", () => {
    expect(users.validateResponse("createUser", 200, "application/json", { id: "u1", name: "ann" })).toEqual([]);
    expect(users.validateResponse("createUser", 200, "application/json", { name: "ann" })).toEqual([
      expect.objectContaining({ pointer: "/id", keyword: "required" }),
    ]);
  });

  it("still requires them in requests, where readOnly members are optional", () => {
    const body = { name: "ann", password: "hunter22", pin: "12345678" };
    expect(users.validateRequest({ method: "POST", path: "/users", body })).toEqual([]);
    expect(users.validateRequest({ method: "POST", path: "/users", body: { name: "ann", pin: "12345678" } })).toEqual([
      expect.objectContaining({ in: "body", pointer: "/password", keyword: "required" }),
    ]);
  });

  it("does not mutate the document it was given", () => {
    expect((document.components as { schemas: { User: { required: string[] } } }).schemas.User.required).toEqual([
      "id",
      "name",
      "password",
      "pin",
    ]);
  });
});
