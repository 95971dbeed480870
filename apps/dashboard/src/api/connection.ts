// How the dashboard talks to the emulator that serves it: the admin API through the client's admin entry, the HTC
// API through the same typed client users have (one per workspace, with the API key of one of its users, read
// from the admin API), and whether the emulator answers at all. Every request is marked as the dashboard's, so
// the request inspector can leave them out. A request that cannot reach the emulator flags the connection as
// lost; a probe then retries until the emulator answers, and every view loads again.
import { createHtcClient, HtcApiError, type HtcClient } from "@htcemu/client";
import { type AdminClient, createAdminClient } from "@htcemu/client/admin";
import { store } from "../lib/store.js";

export const origin = typeof location === "undefined" ? "http://127.0.0.1:8787" : location.origin;
export const baseUrl = `${origin}/api/v1`;
export const adminBase = `${origin}/_emulator/v1`;

/** Marks the dashboard's own requests for the request inspector. */
export const DASHBOARD_HEADERS = { "X-HTC-Emulator-Client": "dashboard" } as const;

export type ConnectionState = "online" | "offline";

/** Whether the emulator answers. */
export const connection = store<ConnectionState>("online");
/** Goes up each time the connection comes back: views load again when it changes. */
export const generation = store(0);

const RETRY_MS = 2000;
let probing = false;
/** HTC clients by workspace (their API keys come from the admin API). */
const clients = new Map<string, Promise<HtcClient>>();

function lost(): void {
  connection.set("offline");
  if (probing) return;
  probing = true;
  const probe = async () => {
    try {
      const response = await fetch(`${adminBase}/info`, { headers: DASHBOARD_HEADERS, cache: "no-store" });
      // Any answer means the emulator is there (a 401 asks for the token: the page says so on reload).
      if (response.status === 401) location.reload();
      probing = false;
      // An emulator that restarted without its data has new keys: read them again.
      clients.clear();
      connection.set("online");
      generation.set(generation.get() + 1);
    } catch {
      setTimeout(probe, RETRY_MS);
    }
  };
  setTimeout(probe, RETRY_MS);
}

/** fetch(), watching for a lost emulator. */
export const trackedFetch = async (request: Request): Promise<Response> => {
  try {
    const response = await fetch(request);
    if (response.status === 401 && request.url.startsWith(adminBase)) {
      // The admin token (a cookie) is no longer valid: the emulator restarted with a new one. Sign in again.
      location.reload();
    }
    return response;
  } catch (error) {
    if (!(error instanceof DOMException && error.name === "AbortError")) lost();
    throw error;
  }
};

/** Reports a failure of a request made outside the clients (a stream). */
export function connectionFailed(): void {
  lost();
}

export const admin: AdminClient = createAdminClient(origin, { fetch: trackedFetch, headers: { ...DASHBOARD_HEADERS }, timeoutMs: 30_000 });

/** The HTC client of a workspace: with the API key of its first user that has one (a workspace admin first). */
export function htc(workspaceId: string): Promise<HtcClient> {
  let client = clients.get(workspaceId);
  if (!client) {
    client = (async () => {
      const users = await admin.api.GET("/workspaces/{workspaceId}/users", { params: { path: { workspaceId } } });
      if (users.error || !users.data) {
        throw new HtcApiError({ status: users.response.status, body: users.error, request: { method: "GET", url: users.response.url } });
      }
      const user = [...users.data].sort((a, b) => Number(b.workspaceAdmin) - Number(a.workspaceAdmin)).find((u) => u.apiKeys.length > 0);
      if (!user) throw new Error(`No user of workspace ${workspaceId} has an API key: the dashboard has no way to act in it.`);
      return createHtcClient({
        baseUrl,
        apiKey: user.apiKeys[0]!,
        fetch: trackedFetch,
        headers: { ...DASHBOARD_HEADERS },
        retry: false,
        timeoutMs: 30_000,
      });
    })();
    clients.set(workspaceId, client);
    client.catch(() => clients.delete(workspaceId));
  }
  return client;
}

/** The data of an openapi-fetch result, or its error as an HtcApiError. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok && error === undefined) return data as T;
  throw new HtcApiError({
    status: response.status,
    statusText: response.statusText,
    body: error,
    request: { method: "", url: response.url },
  });
}
