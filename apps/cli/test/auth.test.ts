// `htc auth login|logout|whoami`.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestEmulator, type TestEmulator, TestHome } from "./helpers.js";

let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
});

afterAll(async () => {
  await emulator?.stop();
});

describe("htc auth", () => {
  it("login stores the key in the current context, exchanges it and shows who it belongs to", async () => {
    const home = new TestHome();
    try {
      const login = await home.run(["auth", "login", "--url", emulator.baseUrl, "--key", emulator.apiKey, "--json"]);
      expect(login.code).toBe(0);
      const body = login.json();
      expect(body).toMatchObject({ context: "default", baseUrl: emulator.baseUrl, user: { email: "developer@htc-emulator.local" } });
      expect(Date.parse(body.tokenExpiresAt)).toBeGreaterThan(Date.now());

      const file = JSON.parse(readFileSync(home.configFile, "utf8"));
      expect(file).toMatchObject({ currentContext: "default", contexts: { default: { url: emulator.baseUrl, apiKey: emulator.apiKey } } });
      expect(statSync(home.configFile).mode & 0o777).toBe(0o600);
      const tokenFile = join(home.dir, ".config", "htcemu", "tokens", "default.json");
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);

      // The login's token serves the next command: no second exchange.
      const exchanges = emulator.count("GET", /\/auth\/token$/);
      expect((await home.run(["project", "list"])).code).toBe(0);
      expect(emulator.count("GET", /\/auth\/token$/)).toBe(exchanges);

      const human = await home.run(["auth", "login", "--key", emulator.apiKey]);
      expect(human.code).toBe(0);
      expect(human.stdout).toContain("Logged in to");
      expect(human.stdout).toContain("developer@htc-emulator.local");
    } finally {
      home.remove();
    }
  });

  it("login reads the key from stdin and can target a named context", async () => {
    const home = new TestHome();
    try {
      await home.run(["config", "set", "emu", "--url", emulator.baseUrl]);
      const login = await home.run(["--context", "emu", "auth", "login", "--json"], { input: `${emulator.apiKey}\n` });
      expect(login.code).toBe(0);
      expect(login.json().context).toBe("emu");
      const file = JSON.parse(readFileSync(home.configFile, "utf8"));
      expect(file.contexts.emu.apiKey).toBe(emulator.apiKey);

      // A context named with --context that does not exist yet is created by the login.
      const fresh = await home.run(["--context", "fresh", "auth", "login", "--url", emulator.baseUrl, "--key", emulator.apiKey, "--json"]);
      expect(fresh.code).toBe(0);
      const after = JSON.parse(readFileSync(home.configFile, "utf8"));
      expect(after.contexts.fresh).toEqual({ url: emulator.baseUrl, apiKey: emulator.apiKey });
      expect(after.currentContext).toBe("emu");
    } finally {
      home.remove();
    }
  });

  it("login with a wrong key fails with the API's error (exit 1) and stores nothing", async () => {
    const home = new TestHome();
    try {
      const login = await home.run(["auth", "login", "--url", emulator.baseUrl, "--key", "definitely-not-a-key", "--json"]);
      expect(login.code).toBe(1);
      expect(login.errorJson()).toMatchObject({ error: { status: 401, exitCode: 1 } });
      expect(login.errorJson().error.errorType).toBeTruthy();
      expect(existsSync(home.configFile)).toBe(false);

      const human = await home.run(["auth", "login", "--url", emulator.baseUrl, "--key", "definitely-not-a-key"]);
      expect(human.stderr).toMatch(/^htc: .*\[401 on GET \/api\/v1\/auth\/token\]/m);
      expect(human.stderr).toContain("hint:");
      const empty = await home.run(["auth", "login", "--url", emulator.baseUrl]);
      expect(empty.code).toBe(2);
    } finally {
      home.remove();
    }
  });

  it("whoami calls /auth/whoami and /auth/token/whoami", async () => {
    const home = new TestHome();
    try {
      await home.run(["auth", "login", "--url", emulator.baseUrl, "--key", emulator.apiKey]);
      const who = await home.run(["auth", "whoami", "--json"]);
      expect(who.code).toBe(0);
      const body = who.json();
      expect(body.whoami.user).toMatchObject({ email: "developer@htc-emulator.local", workspace: { id: emulator.workspaceId } });
      expect(body.token).toMatchObject({ userEmail: "developer@htc-emulator.local", workspaceId: emulator.workspaceId });
      expect(body).toMatchObject({ context: "default", baseUrl: emulator.baseUrl, credentialKind: "apiKey" });

      const human = await home.run(["auth", "whoami"]);
      expect(human.stdout).toMatch(/^User:\s+.*<developer@htc-emulator\.local>/m);
      expect(human.stdout).toMatch(new RegExp(`^Workspace:\\s+.*\\(${emulator.workspaceId}\\)`, "m"));
      expect(human.stdout).not.toContain(emulator.apiKey);

      // A ready bearer token (as inside a job) works too; the key-only operation is skipped.
      const { tokenValue } = (await emulator.client.api.GET("/auth/token")).data!;
      const bare = new TestHome();
      try {
        const job = await bare.run(["auth", "whoami", "--json"], {
          env: { HTC_BASE_URL: emulator.baseUrl, RESCALE_HTC_BEARER_TOKEN: tokenValue },
        });
        expect(job.code).toBe(0);
        expect(job.json()).toMatchObject({ credentialKind: "bearerToken", whoami: null, token: { workspaceId: emulator.workspaceId } });
      } finally {
        bare.remove();
      }
    } finally {
      home.remove();
    }
  });

  it("logout forgets the key and the cached token", async () => {
    const home = new TestHome();
    try {
      await home.run(["auth", "login", "--url", emulator.baseUrl, "--key", emulator.apiKey]);
      const logout = await home.run(["auth", "logout", "--json"]);
      expect(logout.code).toBe(0);
      expect(logout.json()).toEqual({ context: "default", removedKey: true });
      const file = JSON.parse(readFileSync(home.configFile, "utf8"));
      expect(file.contexts.default.apiKey).toBeUndefined();
      expect(file.contexts.default.url).toBe(emulator.baseUrl);
      expect(existsSync(join(home.dir, ".config", "htcemu", "tokens", "default.json"))).toBe(false);
      const after = await home.run(["project", "list"]);
      expect(after.code).toBe(2);
    } finally {
      home.remove();
    }
  });
});
