import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_BASE_URL, normalizeBaseUrl, resolveHtcConfig, TokenManager } from "../src/index.js";
import { createHtcClientFromEnvironment, defaultProfileFile, loadHtcConfig, readProfiles } from "../src/node.js";
import { type Fixture, startFixture, TokenIssuer } from "./fixture.js";

describe("resolveHtcConfig", () => {
  it("prefers explicit options over the environment over the profile file", () => {
    const profiles = { default: { apibaseurl: "http://127.0.0.1:1/api/v1", apikey: "file-key" } };
    const env = { HTC_BASE_URL: "http://127.0.0.1:2/api/v1", RESCALE_API_KEY: "env-key" };
    expect(resolveHtcConfig({ profiles })).toMatchObject({
      baseUrl: "http://127.0.0.1:1/api/v1",
      credential: { kind: "apiKey", value: "file-key" },
      sources: { baseUrl: "profile:default", credential: "profile:default" },
    });
    expect(resolveHtcConfig({ env, profiles })).toMatchObject({
      baseUrl: "http://127.0.0.1:2/api/v1",
      credential: { kind: "apiKey", value: "env-key" },
      sources: { baseUrl: "env:HTC_BASE_URL", credential: "env:RESCALE_API_KEY" },
    });
    expect(resolveHtcConfig({ options: { baseUrl: "http://127.0.0.1:3/api/v1/", bearerToken: "b" }, env, profiles })).toMatchObject({
      baseUrl: "http://127.0.0.1:3/api/v1",
      credential: { kind: "bearerToken", value: "b" },
      sources: { baseUrl: "options", credential: "options" },
    });
  });

  it("accepts RESCALE_API_TOKEN as an alias and the job bearer token with its API URL", () => {
    expect(resolveHtcConfig({ env: { RESCALE_API_TOKEN: "alias" } }).credential).toEqual({ kind: "apiKey", value: "alias" });
    const inJob = resolveHtcConfig({ env: { RESCALE_HTC_BEARER_TOKEN: "jwt", RESCALE_HTC_API_URL: "http://127.0.0.1:4/api/v1" } });
    expect(inJob).toMatchObject({ baseUrl: "http://127.0.0.1:4/api/v1", credential: { kind: "bearerToken", value: "jwt" } });
    // An API key has the wider scope and wins over the job token.
    expect(resolveHtcConfig({ env: { RESCALE_HTC_BEARER_TOKEN: "jwt", RESCALE_API_KEY: "k" } }).credential.kind).toBe("apiKey");
    expect(resolveHtcConfig({ env: { RESCALE_HTC_REFRESH_TOKEN: "r" } }).credential).toEqual({ kind: "refreshToken", value: "r" });
  });

  it("selects the profile from options or HTC_PROFILE", () => {
    const profiles = { default: { apikey: "d" }, staging: { APIKEY: "s", apibaseurl: "http://127.0.0.1:5/api/v1" } };
    expect(resolveHtcConfig({ profiles }).credential.value).toBe("d");
    expect(resolveHtcConfig({ profiles, env: { HTC_PROFILE: "staging" } })).toMatchObject({
      profile: "staging",
      baseUrl: "http://127.0.0.1:5/api/v1",
      credential: { value: "s" },
    });
    expect(() => resolveHtcConfig({ profiles, options: { profile: "nope" } })).toThrow(/profile \[nope\]/);
  });

  it("fails clearly without credentials and defaults the base URL to production", () => {
    expect(() => resolveHtcConfig({})).toThrow(/RESCALE_API_KEY/);
    expect(resolveHtcConfig({ env: { RESCALE_API_KEY: "k" } }).baseUrl).toBe(DEFAULT_BASE_URL);
  });

  it("maps a bare Rescale platform URL to the HTC API", () => {
    expect(normalizeBaseUrl("https://platform.rescale.com")).toBe("https://htc.rescale.com/api/v1");
    expect(normalizeBaseUrl("https://platform.rescale.com/")).toBe("https://htc.rescale.com/api/v1");
    expect(normalizeBaseUrl("https://htc.rescale.com")).toBe("https://htc.rescale.com/api/v1");
    expect(normalizeBaseUrl("https://htc.rescale.com/api/v1/")).toBe("https://htc.rescale.com/api/v1");
    expect(normalizeBaseUrl("http://127.0.0.1:8787")).toBe("http://127.0.0.1:8787");
    expect(() => normalizeBaseUrl("not a url")).toThrow(/invalid base URL/);
  });
});

describe("profile file (node)", () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "htc-home-"));
    mkdirSync(join(home, ".config", "rescale"), { recursive: true });
    vi.stubEnv("HOME", home);
    for (const name of [
      "HTC_BASE_URL",
      "RESCALE_API_KEY",
      "RESCALE_API_TOKEN",
      "RESCALE_HTC_BEARER_TOKEN",
      "RESCALE_HTC_API_URL",
      "RESCALE_HTC_REFRESH_TOKEN",
      "HTC_PROFILE",
    ]) {
      vi.stubEnv(name, undefined);
    }
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(home, { recursive: true, force: true });
  });

  const writeProfile = (text: string) => writeFileSync(join(home, ".config", "rescale", "apiconfig"), text);

  it("reads ~/.config/rescale/apiconfig under HOME, mapping the tutorial's platform URL", () => {
    writeProfile(
      "[default]\napibaseurl = https://platform.rescale.com\napikey = 0123456789abcdef\n\n[emu]\napibaseurl = http://127.0.0.1:8787/api/v1\napikey = emu-key\n",
    );
    expect(defaultProfileFile()).toBe(join(home, ".config", "rescale", "apiconfig"));
    expect(loadHtcConfig()).toMatchObject({
      baseUrl: "https://htc.rescale.com/api/v1",
      credential: { kind: "apiKey", value: "0123456789abcdef" },
      profile: "default",
    });
    vi.stubEnv("HTC_PROFILE", "emu");
    expect(loadHtcConfig()).toMatchObject({ baseUrl: "http://127.0.0.1:8787/api/v1", credential: { value: "emu-key" } });
    vi.stubEnv("RESCALE_API_KEY", "from-env");
    expect(loadHtcConfig().credential.value).toBe("from-env");
  });

  it("treats keys before any section as the default profile, and a missing file as empty", () => {
    writeProfile("apikey = top\n");
    expect(readProfiles(join(home, ".config", "rescale", "apiconfig"))).toEqual({ default: { apikey: "top" } });
    expect(readProfiles(join(home, "absent"))).toBeUndefined();
    expect(() => loadHtcConfig({ profileFile: join(home, "absent") })).toThrow(/no HTC credentials/);
  });

  it("creates a working client from the profile file", async () => {
    const tokens = new TokenIssuer({ apiKey: "file-key" });
    const fx: Fixture = await startFixture((req) => tokens.handle(req) ?? tokens.reject(req) ?? { body: { items: [] } });
    try {
      writeProfile(`[default]\napibaseurl = ${fx.baseUrl}\napikey = file-key\n`);
      const client = createHtcClientFromEnvironment({ timeoutMs: 5000 });
      expect(client.baseUrl).toBe(fx.baseUrl);
      expect(client.auth).toBeInstanceOf(TokenManager);
      const { data } = await client.api.GET("/htc/projects");
      expect(data).toEqual({ items: [] });
      expect(fx.calls("/auth/token")[0]?.authorization).toBe("Token file-key");
    } finally {
      await fx.close();
    }
  });

  it("creates a bearer client inside a job from the environment alone", async () => {
    const fx: Fixture = await startFixture((req) => ({ body: { seen: req.authorization } }));
    try {
      const client = createHtcClientFromEnvironment({
        env: { RESCALE_HTC_BEARER_TOKEN: "job-jwt", RESCALE_HTC_API_URL: fx.baseUrl },
        profileFile: join(home, "absent"),
      });
      const { data } = await client.api.GET("/htc/projects");
      expect(data).toEqual({ seen: "Bearer job-jwt" });
      expect(fx.calls("/auth/token")).toHaveLength(0);
    } finally {
      await fx.close();
    }
  });
});
