// --strict: every response of an HTC operation is checked against the contract before it leaves. A mismatch
// answers 500 with the violations, so drift between the emulator and openapi/ fails loudly in tests.
import { type Contract, formatViolations, loadContract } from "@htcemu/contract";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.js";

export function strictResponses(log: (line: string) => void): MiddlewareHandler<AppEnv> {
  let contract: Contract | undefined;
  return async (c, next) => {
    await next();
    const operationId = c.get("operationId");
    if (!operationId) return;
    contract ??= loadContract();
    const response = c.res;
    // Answers injected by a fault rule (faults/api-faults.ts) are off-contract on purpose.
    if (response.headers.has("x-htc-emulator-fault")) return;
    const type = response.headers.get("content-type");
    const text = await response.clone().text();
    let body: unknown = text === "" ? undefined : text;
    if (type?.includes("json") && text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        // leave it as text: the validator reports it
      }
    }
    const violations = contract.validateResponse(operationId, response.status, type, body);
    if (violations.length === 0) return;
    const message = `response of ${operationId} (${response.status}) does not match the contract:\n${formatViolations(violations)}`;
    log(`STRICT: ${message}`);
    c.res = new Response(JSON.stringify({ error: "contract_violation", errorDescription: message }), {
      status: 500,
      headers: { "content-type": "application/json", "x-htc-emulator-contract-violation": "1" },
    });
  };
}
