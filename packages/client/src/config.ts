// Configuration resolution, portable (no file or process access): explicit options, then environment
// variables, then the profile file's section, then defaults. src/node.ts supplies env and the file.
import { HtcError } from "./errors.js";

export const DEFAULT_BASE_URL = "https://htc.rescale.com/api/v1";
export const DEFAULT_PROFILE = "default";

/**
 * Hosts of the Rescale platform (where API keys are issued). The tutorial's profile file sets
 * `apibaseurl = https://platform.rescale.com`, which is not where HTC answers; a bare URL on such a host is
 * taken to mean HTC production.
 */
export const RESCALE_PLATFORM_HOSTS: readonly string[] = ["platform.rescale.com"];
export const HTC_PRODUCTION_HOST = "htc.rescale.com";

export interface HtcConfigInput {
  baseUrl?: string;
  apiKey?: string;
  bearerToken?: string;
  refreshToken?: string;
  /** Profile (section) of the profile file; default `HTC_PROFILE`, then `default`. */
  profile?: string;
}

export type CredentialKind = "apiKey" | "bearerToken" | "refreshToken";

export interface ResolvedHtcConfig {
  baseUrl: string;
  credential: { kind: CredentialKind; value: string };
  profile: string;
  /** Where each value came from, e.g. `options`, `env:RESCALE_API_KEY`, `profile:default`, `default`. */
  sources: { baseUrl: string; credential: string };
}

/** Parsed profile file: section name → keys (case-insensitive keys `apibaseurl`, `apikey`). */
export type Profiles = Record<string, Record<string, unknown> | undefined>;

export type Environment = Record<string, string | undefined>;

/**
 * Trims trailing slashes; maps a bare platform URL (`https://platform.rescale.com`) to HTC production and a
 * bare `https://htc.rescale.com` to its `/api/v1` base. Any other URL is kept as given.
 */
export function normalizeBaseUrl(input: string): string {
  const trimmed = input.trim().replace(/\/+$/, "");
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new HtcError("CONFIG", `invalid base URL ${JSON.stringify(input)}`);
  }
  const bare = url.pathname === "/" && !url.search && !url.hash;
  if (bare && RESCALE_PLATFORM_HOSTS.includes(url.hostname)) return DEFAULT_BASE_URL;
  if (bare && url.hostname === HTC_PRODUCTION_HOST) return `${url.origin}/api/v1`;
  return trimmed;
}

export function resolveHtcConfig(input: { options?: HtcConfigInput; env?: Environment; profiles?: Profiles }): ResolvedHtcConfig {
  const options = input.options ?? {};
  const env = input.env ?? {};
  const profile = nonEmpty(options.profile) ?? nonEmpty(env["HTC_PROFILE"]) ?? DEFAULT_PROFILE;
  const section = lowerKeys(input.profiles?.[profile]);
  if (options.profile !== undefined && input.profiles && !input.profiles[profile]) {
    throw new HtcError("CONFIG", `profile [${profile}] not found in the profile file`);
  }

  const credential = pickCredential(options, env, section, profile);
  const baseUrl = from("options", options.baseUrl) ??
    from("env:HTC_BASE_URL", env["HTC_BASE_URL"]) ??
    from("env:RESCALE_HTC_API_URL", env["RESCALE_HTC_API_URL"]) ??
    from(`profile:${profile}`, str(section["apibaseurl"])) ?? { source: "default", value: DEFAULT_BASE_URL };

  return {
    baseUrl: normalizeBaseUrl(baseUrl.value),
    credential: { kind: credential.kind, value: credential.value },
    profile,
    sources: { baseUrl: baseUrl.source, credential: credential.source },
  };
}

function pickCredential(options: HtcConfigInput, env: Environment, section: Record<string, unknown>, profile: string) {
  const candidates: [CredentialKind, string, string | undefined][] = [
    ["apiKey", "options", options.apiKey],
    ["bearerToken", "options", options.bearerToken],
    ["refreshToken", "options", options.refreshToken],
    // An API key has full scope, so it wins over the reduced-scope job token injected into containers.
    ["apiKey", "env:RESCALE_API_KEY", env["RESCALE_API_KEY"]],
    ["apiKey", "env:RESCALE_API_TOKEN", env["RESCALE_API_TOKEN"]],
    ["bearerToken", "env:RESCALE_HTC_BEARER_TOKEN", env["RESCALE_HTC_BEARER_TOKEN"]],
    ["refreshToken", "env:RESCALE_HTC_REFRESH_TOKEN", env["RESCALE_HTC_REFRESH_TOKEN"]],
    ["apiKey", `profile:${profile}`, str(section["apikey"])],
  ];
  for (const [kind, source, value] of candidates) {
    const v = nonEmpty(value);
    if (v) return { kind, source, value: v };
  }
  throw new HtcError(
    "CONFIG",
    "no HTC credentials: pass apiKey/bearerToken, set RESCALE_API_KEY (or RESCALE_API_TOKEN, RESCALE_HTC_BEARER_TOKEN), " +
      `or add apikey to [${profile}] of ~/.config/rescale/apiconfig`,
  );
}

function from(source: string, value: string | undefined) {
  const v = nonEmpty(value);
  return v ? { source, value: v } : undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function lowerKeys(section: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section ?? {})) out[k.toLowerCase()] = v;
  return out;
}
