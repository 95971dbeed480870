// `htc config …`: contexts in the config file, its location and mode, precedence of flags and environment, and
// the general behaviour of the command line (version, usage errors, network errors).
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureContext, startTestEmulator, type TestEmulator, TestHome } from "./helpers.js";

let emulator: TestEmulator;
let home: TestHome;

beforeAll(async () => {
  emulator = await startTestEmulator();
  home = new TestHome();
});

afterAll(async () => {
  await emulator?.stop();
  home?.remove();
});

describe("htc config", () => {
  it("set creates a context in $XDG_CONFIG_HOME/htcemu/config.json with mode 0600, list and get show it", async () => {
    const set = await home.run(["config", "set", "emulator", "--url", emulator.baseUrl, "--key", emulator.apiKey, "--json"]);
    expect(set.code).toBe(0);
    expect(set.json()).toMatchObject({ name: "emulator", current: true, url: emulator.baseUrl, hasKey: true });
    // The key is masked unless asked for.
    expect(set.json().apiKey).not.toBe(emulator.apiKey);

    expect(statSync(home.configFile).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(home.configFile, "utf8"));
    expect(file).toMatchObject({ currentContext: "emulator", contexts: { emulator: { url: emulator.baseUrl, apiKey: emulator.apiKey } } });

    const list = await home.run(["config", "list", "--json", "--show-keys"]);
    expect(list.code).toBe(0);
    expect(list.json()).toMatchObject({ currentContext: "emulator", contexts: { emulator: { apiKey: emulator.apiKey } } });

    const table = await home.run(["config", "list"]);
    expect(table.stdout).toMatch(/^CURRENT\s+NAME\s+URL/m);
    expect(table.stdout).toMatch(/\*\s+emulator\s+http:\/\/127\.0\.0\.1/);

    const path = await home.run(["config", "path"]);
    expect(path.stdout.trim()).toBe(home.configFile);
  });

  it("use switches between contexts; delete removes one; unknown names are usage errors (exit 2)", async () => {
    await configureContext(home, emulator);
    const other = await home.run(["config", "set", "prod", "--url", "https://htc.rescale.com/api/v1"]);
    expect(other.code).toBe(0);
    // Creating a second context does not switch to it.
    expect((await home.run(["config", "get", "--json"])).json().context).toBe("emulator");

    const use = await home.run(["config", "use", "prod", "--json"]);
    expect(use.json()).toEqual({ currentContext: "prod" });
    const get = await home.run(["config", "get", "--json"]);
    expect(get.json()).toMatchObject({ context: "prod", effective: { baseUrl: "https://htc.rescale.com/api/v1" } });

    expect((await home.run(["config", "use", "emulator"])).code).toBe(0);
    const missing = await home.run(["config", "use", "nope"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no context named "nope"');

    const del = await home.run(["config", "delete", "prod", "--json"]);
    expect(del.code).toBe(0);
    expect(del.json()).toMatchObject({ deleted: "prod", currentContext: "emulator" });
    expect((await home.run(["config", "get", "prod"])).code).toBe(2);
  });

  it("config get <name> shows one context; an empty value removes a setting", async () => {
    await configureContext(home, emulator, ["--project-id", "p-1", "--task-id", "t-1"]);
    const get = await home.run(["config", "get", "emulator", "--json", "--show-key"]);
    expect(get.json()).toMatchObject({ name: "emulator", url: emulator.baseUrl, apiKey: emulator.apiKey, projectId: "p-1", taskId: "t-1" });
    await home.run(["config", "set", "emulator", "--project-id", "", "--task-id", ""]);
    const after = await home.run(["config", "get", "emulator", "--json"]);
    expect(after.json().projectId).toBeUndefined();
    expect(after.json().taskId).toBeUndefined();
  });

  it("init creates a context from flags and refuses to overwrite it without --force", async () => {
    const other = new TestHome();
    try {
      const init = await other.run(["config", "init", "--url", emulator.baseUrl, "--key", emulator.apiKey, "--json"]);
      expect(init.code).toBe(0);
      expect(init.json()).toMatchObject({ name: "default", current: true, url: emulator.baseUrl });
      const again = await other.run(["config", "init"]);
      expect(again.code).toBe(2);
      expect((await other.run(["config", "init", "--force", "--url", emulator.baseUrl])).code).toBe(0);
    } finally {
      other.remove();
    }
  });

  it("--config and HTC_CONFIG put the config file elsewhere", async () => {
    const flagFile = join(home.dir, "elsewhere", "flag.json");
    const envFile = join(home.dir, "elsewhere", "env.json");
    expect((await home.run(["--config", flagFile, "config", "set", "a", "--url", emulator.baseUrl])).code).toBe(0);
    expect((await home.run(["config", "set", "b", "--url", emulator.baseUrl], { env: { HTC_CONFIG: envFile } })).code).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(flagFile, "utf8")).contexts)).toEqual(["a"]);
    expect(Object.keys(JSON.parse(readFileSync(envFile, "utf8")).contexts)).toEqual(["b"]);
    expect(statSync(flagFile).mode & 0o777).toBe(0o600);
    const path = await home.run(["config", "path"], { env: { HTC_CONFIG: envFile } });
    expect(path.stdout.trim()).toBe(envFile);
  });

  it("precedence: --url over the environment over the current context; an explicit --context over the environment", async () => {
    await configureContext(home, emulator);
    const env = { HTC_BASE_URL: "http://127.0.0.1:1/api/v1", RESCALE_API_KEY: "env-key-123456" };

    const fromEnv = (await home.run(["config", "get", "--json"], { env })).json();
    expect(fromEnv.effective).toMatchObject({
      baseUrl: env.HTC_BASE_URL,
      sources: { baseUrl: "env:HTC_BASE_URL", credential: "env:RESCALE_API_KEY" },
    });

    const fromFlag = (await home.run(["config", "get", "--json", "--url", "http://127.0.0.1:2/api/v1"], { env })).json();
    expect(fromFlag.effective).toMatchObject({ baseUrl: "http://127.0.0.1:2/api/v1", sources: { baseUrl: "flag --url" } });

    const explicit = (await home.run(["config", "get", "--json", "--context", "emulator"], { env })).json();
    expect(explicit.effective).toMatchObject({
      baseUrl: emulator.baseUrl,
      sources: { baseUrl: "context emulator", credential: "context emulator" },
    });

    const viaEnvContext = (await home.run(["config", "get", "--json"], { env: { ...env, HTC_CONTEXT: "emulator" } })).json();
    expect(viaEnvContext.effective.baseUrl).toBe(emulator.baseUrl);

    const plain = (await home.run(["config", "get", "--json"])).json();
    expect(plain.effective).toMatchObject({
      baseUrl: emulator.baseUrl,
      sources: { baseUrl: "context emulator", credential: "context emulator" },
    });

    // The environment's URL and key really are used: the command works against the emulator without any context.
    const bare = new TestHome();
    try {
      const list = await bare.run(["project", "list", "--json"], {
        env: { HTC_BASE_URL: emulator.baseUrl, RESCALE_API_KEY: emulator.apiKey },
      });
      expect(list.code).toBe(0);
      expect(Array.isArray(list.json())).toBe(true);
    } finally {
      bare.remove();
    }
  });

  it("reads the Rescale profile file ~/.config/rescale/apiconfig when nothing else gives a key", async () => {
    const bare = new TestHome();
    try {
      const { mkdirSync } = await import("node:fs");
      mkdirSync(join(bare.dir, ".config", "rescale"), { recursive: true });
      writeFileSync(
        join(bare.dir, ".config", "rescale", "apiconfig"),
        `[default]\napibaseurl = ${emulator.baseUrl}\napikey = ${emulator.apiKey}\n`,
      );
      const get = (await bare.run(["config", "get", "--json"])).json();
      expect(get.effective.baseUrl).toBe(emulator.baseUrl);
      expect(get.effective.sources.credential).toContain("apiconfig");
      expect((await bare.run(["project", "list"])).code).toBe(0);
    } finally {
      bare.remove();
    }
  });

  it("without credentials an API command is a usage error (exit 2) with a hint", async () => {
    const bare = new TestHome();
    try {
      const result = await bare.run(["project", "list"]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("no HTC credentials");
      expect(result.stderr).toContain("hint:");
      const json = await bare.run(["project", "list", "--json"]);
      expect(json.errorJson()).toMatchObject({ error: { code: "CONFIG", exitCode: 2 } });
    } finally {
      bare.remove();
    }
  });

  it("official keys: set KEY VALUE on the current context or --global, unset, context get|use|delete", async () => {
    const h = new TestHome();
    try {
      // A fresh file: the key goes to the context "default", which becomes current.
      expect((await h.run(["config", "set", "project_id", "p-1"])).code).toBe(0);
      expect(JSON.parse(readFileSync(h.configFile, "utf8"))).toMatchObject({
        currentContext: "default",
        contexts: { default: { projectId: "p-1" } },
      });
      expect((await h.run(["config", "set", "api_url", emulator.baseUrl, "--global"])).code).toBe(0);
      expect((await h.run(["config", "set", "api_key", emulator.apiKey])).code).toBe(0);
      // The context has no URL of its own: the global one applies, and says where it came from.
      const get = (await h.run(["config", "get", "--json"])).json();
      expect(get.effective).toMatchObject({
        baseUrl: emulator.baseUrl,
        sources: { baseUrl: "global api_url of the config file", credential: "context default" },
      });
      expect((await h.run(["project", "list", "--json"])).code).toBe(0);

      // --context names another context, created when missing; config context use creates one too.
      expect((await h.run(["--context", "second", "config", "set", "task_id", "t-2"])).code).toBe(0);
      expect((await h.run(["config", "context", "use", "third"])).code).toBe(0);
      const list = (await h.run(["config", "context", "get", "--json"])).json();
      expect(list).toMatchObject({
        currentContext: "third",
        global: { url: emulator.baseUrl },
        contexts: { second: { taskId: "t-2" }, third: {} },
      });
      expect((await h.run(["config", "set", "selected_context", "second", "--global"])).code).toBe(0);
      expect((await h.run(["config", "list", "--json"])).json().currentContext).toBe("second");
      expect((await h.run(["config", "unset", "task_id"])).code).toBe(0);
      expect((await h.run(["config", "get", "second", "--json"])).json().taskId).toBeUndefined();
      expect((await h.run(["config", "context", "delete", "third"])).code).toBe(0);

      // output_format is the default of -o; -o (and --json) override it.
      expect((await h.run(["config", "set", "output_format", "yaml", "--global"])).code).toBe(0);
      expect((await h.run(["config", "path"])).stdout).toMatch(/^configFile: /m);
      expect((await h.run(["config", "path", "--json"])).json()).toMatchObject({ exists: true });
      expect((await h.run(["config", "path", "-o", "text"])).stdout.trim()).toBe(h.configFile);
      expect((await h.run(["config", "unset", "output_format", "--global"])).code).toBe(0);
      expect((await h.run(["config", "path"])).stdout.trim()).toBe(h.configFile);
    } finally {
      h.remove();
    }
  });

  it("rejects invalid context names and URLs", async () => {
    expect((await home.run(["config", "set", "bad name", "--url", emulator.baseUrl])).code).toBe(2);
    expect((await home.run(["config", "set", "x", "--url", "not a url"])).code).toBe(2);
  });
});

describe("bearer token cache", () => {
  it("is written per context with mode 0600 and reused by the next command (one key exchange)", async () => {
    const h = new TestHome();
    try {
      await configureContext(h, emulator, [], "cache");
      const before = emulator.count("GET", /\/auth\/token$/);
      expect((await h.run(["project", "list"])).code).toBe(0);
      expect(emulator.count("GET", /\/auth\/token$/)).toBe(before + 1);
      const tokenFile = join(h.dir, ".config", "htcemu", "tokens", "cache.json");
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const cached = JSON.parse(readFileSync(tokenFile, "utf8"));
      expect(cached.baseUrl).toBe(emulator.baseUrl);
      expect(JSON.stringify(cached)).not.toContain(emulator.apiKey);

      expect((await h.run(["project", "list"])).code).toBe(0);
      expect((await h.run(["region", "get"])).code).toBe(0);
      expect(emulator.count("GET", /\/auth\/token$/)).toBe(before + 1);
    } finally {
      h.remove();
    }
  });

  it("an expired token is renewed, a refused one replaced after the 401", async () => {
    const h = new TestHome();
    try {
      await configureContext(h, emulator, [], "cache");
      expect((await h.run(["project", "list"])).code).toBe(0);
      const tokenFile = join(h.dir, ".config", "htcemu", "tokens", "cache.json");
      const cached = JSON.parse(readFileSync(tokenFile, "utf8"));

      // Expired: a new exchange, and the cache holds the new token.
      writeFileSync(tokenFile, JSON.stringify({ ...cached, expiresAt: Date.now() - 1000, refreshAt: Date.now() - 2000 }));
      let exchanges = emulator.count("GET", /\/auth\/token$/);
      expect((await h.run(["project", "list"])).code).toBe(0);
      expect(emulator.count("GET", /\/auth\/token$/)).toBe(exchanges + 1);
      const renewed = JSON.parse(readFileSync(tokenFile, "utf8"));
      expect(renewed.expiresAt).toBeGreaterThan(Date.now());

      // Looks fresh but the server refuses it: one 401, one exchange, the request replayed.
      writeFileSync(tokenFile, JSON.stringify({ ...renewed, tokenValue: "not-a-token" }));
      exchanges = emulator.count("GET", /\/auth\/token$/);
      expect((await h.run(["project", "list"])).code).toBe(0);
      expect(emulator.count("GET", /\/auth\/token$/)).toBe(exchanges + 1);
      expect(JSON.parse(readFileSync(tokenFile, "utf8")).tokenValue).not.toBe("not-a-token");
    } finally {
      h.remove();
    }
  });

  it("is not used for another key: changing the context's key drops the cache", async () => {
    const h = new TestHome();
    try {
      await configureContext(h, emulator, [], "cache");
      expect((await h.run(["project", "list"])).code).toBe(0);
      await h.run(["config", "set", "cache", "--key", "wrong-key-12345678"]);
      const result = await h.run(["project", "list", "--json"]);
      expect(result.code).toBe(1);
      expect(result.errorJson().error.status).toBe(401);
    } finally {
      h.remove();
    }
  });
});

describe("the command line", () => {
  it("prints its version and help with exit 0, and unknown commands or flags are usage errors (exit 2)", async () => {
    const version = await home.run(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    // `pnpm htc -- …` passes a leading `--` along.
    expect((await home.run(["--", "--version"])).stdout.trim()).toBe(version.stdout.trim());
    const help = await home.run(["--help"]);
    expect(help.code).toBe(0);
    for (const group of ["auth", "config", "project", "task", "job", "image", "storage", "region", "metrics", "emulator"]) {
      expect(help.stdout).toContain(group);
    }
    expect(help.stdout).toContain("Exit codes");
    expect((await home.run(["frobnicate"])).code).toBe(2);
    expect((await home.run(["project", "list", "--no-such-flag"])).code).toBe(2);
  });

  it("reports an unreachable API as a network error (exit 4)", async () => {
    const port = await closedPort();
    const result = await home.run(["project", "list", "--url", `http://127.0.0.1:${port}/api/v1`, "--key", "some-key-123456"]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("failed");
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
