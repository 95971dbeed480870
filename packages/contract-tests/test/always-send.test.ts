// The emulator's always-send guarantee as a check of its own, without the emulator: a loopback server answers
// with a member missing, and the suites' ways of looking at answers (the typed client, the checked fetch, the
// bad-input tally) must refuse it from an emulator and take it from production, whose answers are held only to the
// contract's required lists (upstream's). Against a real emulator, operations.test.ts shows that every answer it
// saw went through this check, and client-reads.test.ts reads what the official clients read.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { unwrap } from "@htcemu/client";
import { ContractViolationError } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadInputTally } from "../src/bad-input.js";
import type { InvalidRequest } from "../src/generate.js";
import { checkedFetch, contract, heldToAlwaysSend, newCoverage, suiteClient } from "../src/harness.js";
import type { Target, TargetKind } from "../src/target.js";

/** GET /auth/token/whoami without `organizationCode` (declared, not required): what production may send. */
const partialWhoAmI = {
  userFullName: "Ada Lovelace",
  userEmail: "ada@example.com",
  workspaceName: "Analytical Engines",
  workspaceId: "ws1",
  groups: [],
  sub: "u1",
  iss: "https://htc.example.com",
  iat: 1_700_000_000,
  exp: 1_700_021_600,
};

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const body = request.url === "/api/v1/auth/token/whoami" ? partialWhoAmI : { errorType: "NOT_FOUND", errorDescription: "no" };
    response.writeHead(request.url === "/api/v1/auth/token/whoami" ? 200 : 404, { "content-type": "application/json" });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const bearer = { auth: { bearerToken: "token" } } as const;

function targetOf(kind: TargetKind): Target {
  return {
    kind,
    baseUrl,
    rootUrl: baseUrl.replace(/\/api\/v1$/, ""),
    apiKey: "key",
    allowWrites: false,
    label: kind,
    options: {},
    stop: async () => undefined,
  };
}

describe("an answer without a declared member", () => {
  it("is refused from the emulator by the suites' client, naming the member and the guarantee", async () => {
    const error = await unwrap(suiteClient(targetOf("emulator"), bearer).api.GET("/auth/token/whoami")).catch((e: unknown) => e);
    // The client hands a failing fetch back as its network error, with the violation as the cause.
    const cause = (error as { cause?: unknown }).cause;
    expect(cause).toBeInstanceOf(ContractViolationError);
    const { report } = cause as ContractViolationError;
    expect(report).toMatchObject({ phase: "response", operationId: "getTokenWhoAmI", status: 200 });
    expect(report.violations).toEqual([
      expect.objectContaining({
        in: "body",
        pointer: "/organizationCode",
        message: expect.stringContaining("must be present"),
      }),
    ]);
  });

  it("is taken from production, whose answers the contract's required lists (upstream's) alone describe", async () => {
    const body = await unwrap(suiteClient(targetOf("remote"), bearer).api.GET("/auth/token/whoami"));
    expect(body).toEqual(partialWhoAmI);
    const response = await checkedFetch(targetOf("remote"))(`${baseUrl}/auth/token/whoami`);
    expect(response.status).toBe(200);
  });

  it("is refused by the checked fetch for the emulator too, and every answer the emulator's fetches saw is recorded as held", async () => {
    const coverage = newCoverage();
    const before = heldToAlwaysSend.toJSON().find((r) => r.operationId === "getTokenWhoAmI")?.statuses ?? [];
    await expect(checkedFetch(targetOf("emulator"), coverage)(`${baseUrl}/auth/token/whoami`)).rejects.toThrow(/organizationCode/);
    expect(coverage.covered()).toEqual(["getTokenWhoAmI"]);
    expect(heldToAlwaysSend.toJSON().find((r) => r.operationId === "getTokenWhoAmI")?.statuses).toEqual([...new Set([...before, 200])]);
    // A production target's answers are not held to it, so not recorded as held.
    const held = heldToAlwaysSend.toJSON().length;
    await unwrap(suiteClient(targetOf("remote"), bearer).api.GET("/auth/token/whoami"));
    expect(heldToAlwaysSend.toJSON()).toHaveLength(held);
  });

  it("in a rejection (the bad-input suite's answers): a 400 without `message` fails against the emulator only", () => {
    const op = contract.getOperation("getTasks");
    const invalid: InvalidRequest = {
      kind: "out-of-range",
      where: "query/pageSize",
      request: { method: "GET", pathParams: { projectId: "p1" }, query: [["pageSize", "0"]], auth: { kind: "default" } },
      specInvalid: true,
    };
    const body = { errorType: "VALIDATION_ERROR", errorDescription: "pageSize: must be at least 1" };
    const answer = { status: 400, contentType: "application/json", body };
    const emulator = new BadInputTally(contract, { allDeclaredPresent: true }).judge(op, invalid, answer);
    expect(emulator).toMatchObject({ problem: "contract", detail: expect.stringMatching(/message: must be present/) });
    expect(new BadInputTally(contract).judge(op, invalid, answer)).toBeUndefined();
    const complete = { ...answer, body: { ...answer.body, message: null } };
    expect(new BadInputTally(contract, { allDeclaredPresent: true }).judge(op, invalid, complete)).toBeUndefined();
  });
});
