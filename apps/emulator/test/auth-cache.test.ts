// Authentication and project look-ups are served from memory on the hot path (db/table-changes.ts): every change
// to who may call, what a workspace may use or what a project is must still be seen by the very next request.
// Each test first makes the request that fills the caches, changes the state through the admin API (or a reset,
// or a snapshot import), and asks again at once: a cache that was not forgotten answers the old state.
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
