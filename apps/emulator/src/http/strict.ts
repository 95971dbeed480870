// --strict: every response of an operation (of the HTC API or of the admin API) is checked against its API's
// description before it leaves. A mismatch answers 500 with the violations, so drift between the emulator and
// openapi/ fails loudly in tests. HTC responses are also held to the emulator's own guarantee, stricter than
// the contract's `required` lists: every member a response object declares is present (`null` when unset).
// Applied by the operation frame (frame.ts).
import { formatViolations } from "@htcemu/contract";
import { contractOf } from "./contracts.js";
import type { Exchange, ServedOperation } from "./env.js";

/**
 * The answer as it may leave: `response` itself, or a 500 naming its violations of the contract (told to the
 * request inspector's `exchange` when it records).
 */
export async function checkedResponse(
  operation: ServedOperation,
  response: Response,
  log: (line: string) => void,
  exchange?: Exchange,
): Promise<Response> {
  const { operationId } = operation;
  // Answers injected by a fault rule (faults/api-faults.ts) are off-contract on purpose.
  if (response.headers.has("x-htc-emulator-fault")) return response;
  const type = response.headers.get("content-type");
  // Binary bodies (a snapshot) and event streams (live feeds) stream; only their status and media type are
  // checked.
  const binary = type !== null && (!/json|^text\//i.test(type) || /^text\/event-stream/i.test(type));
  const text = binary ? (response.body ? "(binary)" : "") : await response.clone().text();
  let body: unknown = text === "" ? undefined : text;
  if (type?.includes("json") && text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      // leave it as text: the validator reports it
    }
  }
  const violations = contractOf(operation.api).validateResponse(operationId, response.status, type, body, {
    allDeclaredPresent: operation.api === "htc",
  });
  if (violations.length === 0) return response;
  const message = `response of ${operationId} (${response.status}) does not match the contract:\n${formatViolations(violations)}`;
  log(`STRICT: ${message}`);
  const answer = JSON.stringify({ error: "contract_violation", errorDescription: message });
  if (exchange) {
    exchange.violations = violations.map((v) => ({ in: v.in, pointer: v.pointer, message: v.message }));
    exchange.responseText = answer;
    exchange.responseType = "application/json";
    exchange.responseHeaders = { "x-htc-emulator-contract-violation": "1" };
  }
  return new Response(answer, {
    status: 500,
    headers: { "content-type": "application/json", "x-htc-emulator-contract-violation": "1" },
  });
}
