// Authentication and project look-ups are served from memory on the hot path (db/table-changes.ts): every change
// to who may call, what a workspace may use or what a project is must still be seen by the very next request.
// Each test first makes the request that fills the caches, changes the state through the admin API (or a reset,
// or a snapshot import), and asks again at once: a cache that was not forgotten answers the old state.
import { Agent, get as httpGet } from "node:http";
import type { AdminClient } from "@htcemu/client/admin";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminOf } from "./controls-helpers.js";
import { bearerFor, http, secondWorkspace, startTestEmulator } from "./helpers.js";

let emulator: SpawnedEmulator;
let admin: AdminClient;

beforeAll(async () => {
  emulator = await startTestEmulator(["--executor", "simulated"]);
  admin = adminOf(emulator);
}, 60_000);

afterAll(async () => {
  await emulator?.stop();
});

const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });
const exchange = (apiKey: string) => http(`${emulator.baseUrl}/auth/token`, { headers: { Authorization: `Token ${apiKey}` } });
const projects = (token: string) => http(`${emulator.baseUrl}/htc/projects`, bearer(token));

/** Asks twice, so the second answer comes from whatever the first one left in memory. */
async function warm(request: () => Promise<{ status: number }>, status = 200): Promise<void> {
  for (let i = 0; i < 2; i++) expect((await request()).status).toBe(status);
}

describe("what authentication remembers is forgotten on the next request", () => {
  it("after an API key is revoked", async () => {
    const other = await secondWorkspace(emulator, "revoked-key");
    const whoami = () => http(`${emulator.baseUrl}/auth/whoami`, { headers: { Authorization: `Token ${other.apiKey}` } });
    await warm(() => exchange(other.apiKey));
    await warm(whoami);
    const revoked = await http(`${emulator.rootUrl}/_emulator/v1/api-keys/${other.apiKey}`, { method: "DELETE" });
    expect(revoked.status).toBe(204);
    expect((await exchange(other.apiKey)).status).toBe(401);
    expect((await whoami()).status).toBe(401);
    const form = new URLSearchParams({ grant_type: "client_credentials", client_secret: other.apiKey });
    expect((await http(`${emulator.baseUrl}/oauth2/token`, { method: "POST", body: form })).body).toMatchObject({
      error: "invalid_client",
    });
  });

  it("after a reset removed the token's user", async () => {
    const other = await secondWorkspace(emulator, "reset-away");
    const token = await bearerFor(emulator, other.apiKey);
    const kept = await bearerFor(emulator, emulator.apiKey);
    await warm(() => projects(token));
    await warm(() => projects(kept));
    await admin.reset();
    const refused = await projects(token);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ errorDescription: "The bearer token's user no longer exists." });
    // The default user stays, and so does its token.
    expect((await projects(kept)).status).toBe(200);
  });

  it("after a snapshot import replaced the users", async () => {
    await admin.reset();
    const before = await admin.exportSnapshot();
    const other = await secondWorkspace(emulator, "not-in-the-snapshot");
    const token = await bearerFor(emulator, other.apiKey);
    await warm(() => projects(token));
    await admin.importSnapshot(before);
    expect((await projects(token)).status).toBe(401);
    expect((await exchange(other.apiKey)).status).toBe(401);
  });

  it("after a workspace limit changed, by the admin API or by a reset of the workspace", async () => {
    const other = await secondWorkspace(emulator, "limits");
    const token = await bearerFor(emulator, other.apiKey);
    const limits = () => http(`${emulator.baseUrl}/htc/workspaces/${other.workspaceId}/limits`, bearer(token));
    const setLimit = (vCPUs: number | null) =>
      http(`${emulator.rootUrl}/_emulator/v1/workspaces/${other.workspaceId}/limit`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ vCPUs }),
      });
    await warm(limits, 404); // no limit yet
    expect((await setLimit(64)).status).toBe(200);
    expect((await limits()).body).toMatchObject({ vCPUs: 64 });
    await warm(limits);
    expect((await setLimit(8)).status).toBe(200);
    expect((await limits()).body).toMatchObject({ vCPUs: 8 });
    await admin.reset(other.workspaceId); // a workspace other than the default user's starts without a limit
    expect((await limits()).status).toBe(404);
  });
});

describe("a project read from memory", () => {
  it("shows new regions and disappears with its workspace's reset", async () => {
    const other = await secondWorkspace(emulator, "project-cache");
    const token = await bearerFor(emulator, other.apiKey);
    const created = await http(`${emulator.baseUrl}/htc/projects`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ projectName: "cached", projectDescription: "" }),
    });
    const { projectId } = created.body as { projectId: string };
    const get = () => http(`${emulator.baseUrl}/htc/projects/${projectId}`, bearer(token));
    await warm(get);
    const patched = await http(`${emulator.baseUrl}/htc/projects/${projectId}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ regions: ["AWS_EU_WEST_1"] }),
    });
    expect(patched.status).toBe(200);
    expect((patched.body as { regions: string[] }).regions).toEqual(["AWS_US_WEST_2", "AWS_EU_WEST_1"]);
    expect(((await get()).body as { regions: string[] }).regions).toEqual(["AWS_US_WEST_2", "AWS_EU_WEST_1"]);
    await warm(get);
    await admin.reset(other.workspaceId);
    expect((await get()).status).toBe(404);
  });
});

/**
 * A client on one kept-alive connection (what authentication remembers per connection, see auth/tokens.ts):
 * every request after the first must reuse it, or the test would not be testing that memory.
 */
function oneConnection() {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let requests = 0;
  const get = (url: string, token: string) =>
    new Promise<{ status: number; body: { errorDescription?: string; projectId?: string } }>((resolve, reject) => {
      const request = httpGet(url, { agent, headers: { Authorization: `Bearer ${token}` } }, (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
        response.on("error", reject);
      });
      request.on("error", reject);
      const first = requests++ === 0;
      request.on("socket", () => {
        if (!first && !request.reusedSocket) reject(new Error("the request did not reuse the connection"));
      });
    });
  return { get, close: () => agent.destroy() };
}

describe("a cached-token read of a project, on one kept-alive connection", () => {
  const projectOf = async (token: string, name: string) => {
    const created = await http(`${emulator.baseUrl}/htc/projects`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ projectName: name, projectDescription: "" }),
    });
    expect(created.status).toBe(200);
    return (created.body as { projectId: string }).projectId;
  };

  it("answers each token as its own user when a connection switches tokens", async () => {
    const other = await secondWorkspace(emulator, "switching");
    const mine = await bearerFor(emulator, emulator.apiKey);
    const theirs = await bearerFor(emulator, other.apiKey);
    const projectId = await projectOf(theirs, "theirs");
    const connection = oneConnection();
    try {
      const url = `${emulator.baseUrl}/htc/projects/${projectId}`;
      for (let i = 0; i < 3; i++) {
        expect((await connection.get(url, theirs)).status).toBe(200);
        expect((await connection.get(url, mine)).status).toBe(404); // another workspace's project
      }
      expect((await connection.get(url, `${theirs.slice(0, -2)}xx`)).status).toBe(401); // a forged signature
    } finally {
      connection.close();
    }
  });

  it("refuses the token once its user is gone (a reset), and answers 404 once the project is", async () => {
    const other = await secondWorkspace(emulator, "connection-reset");
    const token = await bearerFor(emulator, other.apiKey);
    const kept = await bearerFor(emulator, emulator.apiKey);
    const theirs = await projectOf(token, "gone-with-the-user");
    const mine = await projectOf(kept, "gone-with-the-reset");
    const connection = oneConnection();
    try {
      await warm(() => connection.get(`${emulator.baseUrl}/htc/projects/${theirs}`, token));
      await warm(() => connection.get(`${emulator.baseUrl}/htc/projects/${mine}`, kept));
      await admin.reset();
      const refused = await connection.get(`${emulator.baseUrl}/htc/projects/${theirs}`, token);
      expect(refused.status).toBe(401);
      expect(refused.body.errorDescription).toBe("The bearer token's user no longer exists.");
      expect((await connection.get(`${emulator.baseUrl}/htc/projects/${mine}`, kept)).status).toBe(404);
    } finally {
      connection.close();
    }
  });

  // Last: it moves the emulator's clock past every token issued so far.
  it("refuses the token once the clock passes its expiry", async () => {
    const token = await bearerFor(emulator, emulator.apiKey);
    const projectId = await projectOf(token, "expiring");
    const connection = oneConnection();
    try {
      const url = `${emulator.baseUrl}/htc/projects/${projectId}`;
      await warm(() => connection.get(url, token));
      const { exp } = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8")) as { exp: number };
      const now = Date.parse((await admin.clock()).now);
      await admin.advanceClock({ seconds: exp - Math.floor(now / 1000) + 1 });
      const refused = await connection.get(url, token);
      expect(refused.status).toBe(401);
      expect(refused.body.errorDescription).toBe("The bearer token has expired.");
    } finally {
      connection.close();
    }
  });
});
