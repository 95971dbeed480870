// The admin token: off loopback the admin API and the dashboard require it (a token is made up when none is
// given), a refused request changes nothing, the dashboard's sign-in sets a cookie; on loopback they stay open.
// Tests listen on loopback only (the machine's network rule): the off-loopback emulator is one started with the
// token that adminTokenFor() makes up for a non-loopback address, which is what startEmulator() does there.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAdminClient } from "@htcemu/client/admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runningBanner } from "../src/cli-options.js";
import { type RunningEmulator, startEmulator } from "../src/index.js";
import { adminTokenFor } from "../src/http/admin-token.js";
import { isLoopbackHost } from "../src/options.js";
import { http } from "./helpers.js";

const dashboard = mkdtempSync(join(tmpdir(), "htc-dashboard-"));
mkdirSync(join(dashboard, "assets"));
writeFileSync(join(dashboard, "index.html"), "<!doctype html><title>dashboard</title>");

describe("off loopback", () => {
  let emu: RunningEmulator;
  let local: string;
  beforeAll(async () => {
    const adminToken = adminTokenFor("0.0.0.0", undefined);
    emu = await startEmulator({ executor: "simulated", registry: "off", strict: true, dashboardDir: dashboard, adminToken });
    local = `http://127.0.0.1:${emu.port}`;
  });
  afterAll(() => emu?.stop());

  it("makes up a token, prints it and puts it in the dashboard's address", () => {
    for (const host of ["0.0.0.0", "::", "192.0.2.10"]) expect(adminTokenFor(host, undefined)).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(adminTokenFor("0.0.0.0", undefined)).not.toBe(adminTokenFor("0.0.0.0", undefined));
    expect(adminTokenFor("127.0.0.1", undefined)).toBeUndefined();
    expect(adminTokenFor("0.0.0.0", "given-token-123")).toBe("given-token-123");
    expect(emu.adminToken).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(emu.dashboardUrl).toBe(`${emu.rootUrl}/ui/#token=${emu.adminToken}`);
    const banner = runningBanner(emu, { inMemory: true, dataDir: "" } as never);
    expect(banner).toContain(emu.adminToken!);
    expect(banner).toContain(`/ui/#token=${emu.adminToken}`);
  });

  it("refuses admin requests without it with 401 in the API's error shape, and changes nothing", async () => {
    const before = await http(`${local}/_emulator/v1/clock`, { headers: { Authorization: `Bearer ${emu.adminToken}` } });
    expect(before.status).toBe(200);
    for (const headers of [{}, { Authorization: "Bearer wrong-token-1234" }, { Authorization: `Token ${emu.adminToken}` }] as Record<
      string,
      string
    >[]) {
      const refused = await http(`${local}/_emulator/v1/clock`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ advanceSeconds: 86400 }),
      });
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(refused.body).toMatchObject({ error: "invalid_token", errorDescription: expect.stringContaining("admin token") });
    }
    const workspaces = await http(`${local}/_emulator/v1/workspaces`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "intruder" }),
    });
    expect(workspaces.status).toBe(401);
    const reset = await http(`${local}/_emulator/v1/reset`, { method: "POST" });
    expect(reset.status).toBe(401);

    const after = await http(`${local}/_emulator/v1/clock`, { headers: { Authorization: `Bearer ${emu.adminToken}` } });
    const drift = Date.parse((after.body as { now: string }).now) - Date.parse((before.body as { now: string }).now);
    expect(drift).toBeLessThan(60_000); // not a day ahead
    const list = await http(`${local}/_emulator/v1/workspaces`, { headers: { Authorization: `Bearer ${emu.adminToken}` } });
    expect((list.body as { name: string }[]).map((w) => w.name)).not.toContain("intruder");
    // The request inspector shows the refusals (they never reached an operation).
    const inspected = await http(`${local}/_emulator/v1/inspector/requests?path=/_emulator/v1/reset`, {
      headers: { Authorization: `Bearer ${emu.adminToken}` },
    });
    const [refusal] = (inspected.body as { items: { status: number; api: string; operationId: string | null }[] }).items;
    expect(refusal).toMatchObject({ status: 401, api: "admin", operationId: null });
  });

  it("is sent by the admin client given adminToken", async () => {
    await expect(createAdminClient(local).info()).rejects.toMatchObject({ status: 401 });
    const info = await createAdminClient(local, { adminToken: emu.adminToken! }).info();
    expect(info.name).toBe("htc-emulator");
  });

  it("leaves the HTC API to its own authentication", async () => {
    const token = await http(`${local}/api/v1/auth/token`, { headers: { Authorization: `Token ${emu.apiKey}` } });
    expect(token.status).toBe(200);
  });

  it("shows a sign-in page at /ui/ that sets an HttpOnly cookie for the dashboard and the admin API", async () => {
    const page = await fetch(`${local}/ui/tasks/x`);
    expect(page.status).toBe(401);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain("Admin token");
    expect(html).not.toContain(emu.adminToken!);

    const wrong = await fetch(`${local}/ui/_session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: "nope-nope-nope" }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();

    const signIn = await fetch(`${local}/ui/_session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: emu.adminToken }),
    });
    expect(signIn.status).toBe(204);
    const cookie = signIn.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^htc_emulator_admin=.*; Path=\/; HttpOnly; SameSite=Strict$/);
    const pair = cookie.split(";")[0]!;
    const app = await fetch(`${local}/ui/tasks/x`, { headers: { Cookie: pair } });
    expect(app.status).toBe(200);
    expect(await app.text()).toContain("<title>dashboard</title>");
    const info = await http(`${local}/_emulator/v1/info`, { headers: { Cookie: pair } });
    expect(info.status).toBe(200);
  });
});

describe("on loopback", () => {
  it("leaves the admin API and /ui/ open", async () => {
    const emu = await startEmulator({ executor: "simulated", registry: "off", dashboardDir: dashboard });
    try {
      expect(emu.adminToken).toBeUndefined();
      expect(emu.dashboardUrl).toBe(`${emu.rootUrl}/ui/`);
      expect((await http(`${emu.rootUrl}/_emulator/v1/info`)).status).toBe(200);
      expect((await fetch(`${emu.rootUrl}/ui/`)).status).toBe(200);
    } finally {
      await emu.stop();
    }
  });

  it("requires a token that was given explicitly", async () => {
    const emu = await startEmulator({ executor: "simulated", registry: "off", adminToken: "given-token-123" });
    try {
      expect(emu.adminToken).toBe("given-token-123");
      expect((await http(`${emu.rootUrl}/_emulator/v1/info`)).status).toBe(401);
      expect((await http(`${emu.rootUrl}/_emulator/v1/info`, { headers: { Authorization: "Bearer given-token-123" } })).status).toBe(200);
    } finally {
      await emu.stop();
    }
  });

  it("tells loopback addresses from others", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ["0.0.0.0", "::", "192.0.2.10", "198.51.100.1", "example.org"]) expect(isLoopbackHost(host)).toBe(false);
  });
});
