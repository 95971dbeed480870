import { describe, expect, it, vi } from "vitest";
import { createCoverage, loadContract } from "../src/index.js";
import { ContractViolationError, type ViolationReport, validatingFetch } from "../src/testing.js";
import { JOBS, submittedBatch, validProject } from "./fixtures.js";

const contract = loadContract();
const origin = "http://emulator.test";

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

describe("validatingFetch", () => {
  it("passes valid exchanges through with an unread body", async () => {
    const send = vi.fn(async (_request: Request) => jsonResponse(validProject()));
    const fetch = validatingFetch(contract, { fetch: send });
    const response = await fetch(`${origin}/api/v1/htc/projects/p1`);
    expect(await response.json()).toEqual(validProject());
    expect(send).toHaveBeenCalledOnce();
  });

  it("throws on a response violation", async () => {
    const fetch = validatingFetch(contract, { fetch: async () => jsonResponse({ projectId: "p1" }) });
    const error = await fetch(`${origin}/api/v1/htc/projects/p1`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractViolationError);
    const report = (error as ContractViolationError).report;
    expect(report).toMatchObject({ phase: "response", method: "GET", operationId: "getProject", status: 200 });
    expect((error as Error).message).toMatch(/body\/projectName: must have required property 'projectName'/);
  });

  it("reports instead of throwing when asked", async () => {
    const reports: ViolationReport[] = [];
    const fetch = validatingFetch(contract, {
      fetch: async () => new Response("oops", { status: 500, headers: { "content-type": "text/plain" } }),
      onViolation: (report) => reports.push(report),
    });
    const response = await fetch(new Request(`${origin}/api/v1/htc/projects/p1`));
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("oops");
    expect(reports).toEqual([expect.objectContaining({ phase: "response", violations: [expect.objectContaining({ in: "status" })] })]);
  });

  it("refuses an invalid request before sending it", async () => {
    const send = vi.fn(async (_request: Request) => jsonResponse([]));
    const fetch = validatingFetch(contract, { fetch: send });
    const body = JSON.stringify([{ ...submittedBatch(), batchSize: 0 }]);
    const error = await fetch(`${origin}${JOBS}/batch`, { method: "POST", body, headers: { "content-type": "application/json" } }).catch(
      (e: unknown) => e,
    );
    expect((error as ContractViolationError).report).toMatchObject({ phase: "request", operationId: "submitJobs" });
    expect(send).not.toHaveBeenCalled();
  });

  it("sends the request body unchanged", async () => {
    let received = "";
    const fetch = validatingFetch(contract, {
      fetch: async (request) => {
        received = await request.text();
        return new Response(null, { status: 200 });
      },
    });
    const body = JSON.stringify({ jobIds: ["a:0"] });
    await fetch(`${origin}${JOBS}/cancel?group=g`, { method: "POST", body, headers: { "content-type": "application/json" } }).catch(
      () => undefined,
    );
    expect(received).toBe(body);
  });

  it("reports malformed JSON", async () => {
    const fetch = validatingFetch(contract, {
      fetch: async () => new Response("{", { headers: { "content-type": "application/json" } }),
    });
    await expect(fetch(`${origin}/api/v1/htc/projects/p1`)).rejects.toThrow(/not valid JSON/);
  });

  it("ignores paths outside the contract and flags unknown API paths", async () => {
    const fetch = validatingFetch(contract, { fetch: async () => new Response("whatever", { status: 418 }) });
    expect((await fetch(`${origin}/_emulator/state`)).status).toBe(418);
    await expect(fetch(`${origin}/api/v1/htc/nothing`)).rejects.toThrow(/no operation matches GET/);
  });

  it("can skip request validation", async () => {
    const fetch = validatingFetch(contract, { validateRequests: false, fetch: async () => jsonResponse(validProject()) });
    expect((await fetch(`${origin}/api/v1/htc/projects/p1?bogus=1`)).status).toBe(200);
  });

  it("records coverage", async () => {
    const coverage = createCoverage(contract);
    const fetch = validatingFetch(contract, { coverage, fetch: async () => jsonResponse(validProject()) });
    await fetch(`${origin}/api/v1/htc/projects/p1`);
    expect(coverage.toJSON()).toEqual([{ operationId: "getProject", statuses: [200] }]);
  });
});
