// Remembers which request produced a response, so unwrap() can name it in an HtcApiError even though
// openapi-fetch hands back only the Response.

/** Method and URL of the request that failed. */
export interface HtcRequestInfo {
  method: string;
  url: string;
}

const origins = new WeakMap<Response, HtcRequestInfo>();

export function rememberRequest(response: Response, request: HtcRequestInfo): void {
  origins.set(response, request);
}

export function requestInfoOf(response: Response): HtcRequestInfo {
  return origins.get(response) ?? { method: "UNKNOWN", url: response.url };
}
