// Shared set-up of the integration tests: an emulator started as a separate process (with --strict, so it
// checks its own responses too), and clients whose every exchange is validated against the contract.
import { createHtcClient, type HtcClient, unwrap } from "@htcemu/client";
import { type Contract, loadContract } from "@htcemu/contract";
import { type SpawnedEmulator, spawnEmulator, validatingFetch } from "@htcemu/contract/testing";
import type { AllPresent } from "../src/contract-types.js";

export const contract: Contract = loadContract();

export async function startTestEmulator(args: string[] = []): Promise<SpawnedEmulator> {
  return spawnEmulator({ args: ["--strict", ...args] });
}

/**
 * A typed client for `apiKey` whose requests and responses must match the contract, responses with every
 * declared member present (the emulator's guarantee).
 */
export function contractClient(emulator: { baseUrl: string }, auth: { apiKey: string } | { bearerToken: string }): HtcClient {
  return createHtcClient({
    baseUrl: emulator.baseUrl,
    ...auth,
    fetch: validatingFetch(contract, { allDeclaredPresent: true }),
    retry: false,
  });
}

/**
 * `unwrap` for the answers of a `contractClient`: its fetch has checked that every member the contract declares
 * is present (the emulator's guarantee, stricter than the contract's `required` lists, which follow production),
 * so the body is typed that way too.
 */
export async function sent<R extends { data?: unknown; error?: unknown; response: Response }>(
  result: R | Promise<R>,
): Promise<AllPresent<NonNullable<R["data"]>>> {
  return (await unwrap(result)) as AllPresent<NonNullable<R["data"]>>;
}

/** Plain HTTP against the emulator, for what the typed client cannot express (raw headers, bad input). */
export async function http(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body, headers: response.headers };
}

export async function bearerFor(emulator: { baseUrl: string }, apiKey: string): Promise<string> {
  const { status, body } = await http(`${emulator.baseUrl}/auth/token`, { headers: { Authorization: `Token ${apiKey}` } });
  if (status !== 200) throw new Error(`token exchange failed: ${status} ${JSON.stringify(body)}`);
  return (body as { tokenValue: string }).tokenValue;
}

/** Creates a second workspace with one user through the admin API; returns its API key. */
export async function secondWorkspace(
  emulator: { rootUrl: string },
  name = "Other workspace",
): Promise<{ workspaceId: string; apiKey: string; userId: string }> {
  const admin = `${emulator.rootUrl}/_emulator/v1`;
  const ws = await http(`${admin}/workspaces`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const workspaceId = (ws.body as { id: string }).id;
  const user = await http(`${admin}/workspaces/${workspaceId}/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: "other@example.com", fullName: "Other User" }),
  });
  const { apiKeys, userId } = user.body as { apiKeys: string[]; userId: string };
  return { workspaceId, apiKey: apiKeys[0]!, userId };
}
