// `@htcemu/client/node`: the only module that touches Node APIs (environment, home directory, files).
// Reads the profile file Rescale tools share, `~/.config/rescale/apiconfig` (INI, one section per profile).
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import ini from "ini";
import { createHtcClient, type HtcClient, type HtcClientOptions } from "./client.js";
import { type Environment, type HtcConfigInput, type Profiles, type ResolvedHtcConfig, resolveHtcConfig } from "./config.js";
import { HtcError } from "./errors.js";

export * from "./index.js";

export interface EnvironmentSources {
  /** Environment to read; default `process.env`. */
  env?: Environment;
  /** Profile file; default `~/.config/rescale/apiconfig` (home from `HOME`/the OS). */
  profileFile?: string;
}

export function defaultProfileFile(env: Environment = process.env): string {
  return join(env["HOME"] || homedir(), ".config", "rescale", "apiconfig");
}

/** Parses the profile file; undefined when it does not exist. */
export function readProfiles(file: string): Profiles | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new HtcError("CONFIG", `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = ini.parse(text) as Record<string, unknown>;
  const profiles: Profiles = {};
  const topLevel: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value && typeof value === "object") profiles[key] = value as Record<string, unknown>;
    else topLevel[key] = value;
  }
  // Keys before any section header belong to the default profile.
  if (Object.keys(topLevel).length > 0) profiles["default"] = { ...topLevel, ...profiles["default"] };
  return profiles;
}

/** Resolves configuration: explicit options, then environment, then the profile file. */
export function loadHtcConfig(options: HtcConfigInput & EnvironmentSources = {}): ResolvedHtcConfig {
  const env = options.env ?? process.env;
  const profiles = readProfiles(options.profileFile ?? defaultProfileFile(env));
  return resolveHtcConfig({ options, env, profiles });
}

export type EnvironmentClientOptions = HtcConfigInput &
  EnvironmentSources &
  Omit<Partial<HtcClientOptions>, "baseUrl" | "apiKey" | "bearerToken" | "refreshToken" | "auth">;

/** Creates a client from explicit overrides, else the environment, else the profile file. */
export function createHtcClientFromEnvironment(overrides: EnvironmentClientOptions = {}): HtcClient {
  const { baseUrl: _b, apiKey: _a, bearerToken: _t, refreshToken: _r, profile: _p, env: _e, profileFile: _f, ...clientOptions } = overrides;
  const config = loadHtcConfig(overrides);
  const credential = { [config.credential.kind]: config.credential.value } as
    | { apiKey: string }
    | { bearerToken: string }
    | { refreshToken: string };
  return createHtcClient({ ...clientOptions, baseUrl: config.baseUrl, ...credential });
}
