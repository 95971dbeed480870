// Who htcctl acts as. Inside a job the runtime injects a job bearer token (RESCALE_HTC_BEARER_TOKEN) and a
// refresh token (RESCALE_HTC_REFRESH_TOKEN); when the bearer token has expired (by its `exp`, or because the API
// answers 401) it is renewed at `GET /auth/token` with `Authorization: Refresh <token>`. Outside jobs an API key
// (RESCALE_API_TOKEN, as the official tool reads it) is exchanged for bearer tokens the same way with `Token`.
import { Api, ExchangedAuth, exchangeToken, JobTokenAuth } from "./api.js";
import { UsageError } from "./args.js";

export const DEFAULT_API_URL = "https://htc.rescale.com/api/v1";

export type Env = Record<string, string | undefined>;

export function apiUrlOf(env: Env, flag?: string): string {
  return (flag || env["RESCALE_HTC_API_URL"] || env["HTC_BASE_URL"] || DEFAULT_API_URL).replace(/\/+$/, "");
}

/** The API with the credentials the environment holds: a job token first, else an API key, else a refresh token. */
export function apiFrom(env: Env, apiUrl: string): Api {
  const bearer = env["RESCALE_HTC_BEARER_TOKEN"];
  const refresh = env["RESCALE_HTC_REFRESH_TOKEN"];
  const apiKey = env["RESCALE_API_TOKEN"] || env["RESCALE_API_KEY"];
  const withRefresh = refresh ? () => exchangeToken(apiUrl, `Refresh ${refresh}`) : undefined;
  if (bearer) return new Api(apiUrl, new JobTokenAuth(bearer, withRefresh));
  if (apiKey) return new Api(apiUrl, new ExchangedAuth(() => exchangeToken(apiUrl, `Token ${apiKey}`)));
  if (withRefresh) return new Api(apiUrl, new ExchangedAuth(withRefresh));
  throw new UsageError("no credentials: set RESCALE_HTC_BEARER_TOKEN (inside a job) or RESCALE_API_TOKEN (an API key)");
}
