// The one exception type every layer throws for an answer the contract describes (a 400 naming the field, 401,
// 403, 404, …) with the API's two error bodies. Domain functions, jobs and routes throw it; the HTTP layer turns
// it into the response (app.ts), so no code path formats an error body by hand. It lives outside http/ because
// the domain layer throws it without knowing about requests.
import type { components } from "./contract-types.js";

/** `OAuth2ErrorResponse`: authentication failures and most 404s. */
export type OAuth2ErrorBody = components["schemas"]["OAuth2ErrorResponse"];

/** `HTCRequestError`: validation failures (400) and the 404s of the job operations. */
export type RequestErrorBody = components["schemas"]["HTCRequestError"];

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 429 | 500 | 503,
    readonly body: OAuth2ErrorBody | RequestErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super("errorDescription" in body ? body.errorDescription : "error");
  }
}

/** 400 naming the offending field, e.g. `htcJobDefinition.maxVCpus`. */
export function invalidField(field: string, problem: string): ApiError {
  const where = field || "(body)";
  return new ApiError(400, {
    errorType: "VALIDATION_ERROR",
    errorDescription: `${where}: ${problem}`,
    message: `Invalid value for '${where}'.`,
  });
}

/** 400 for a request that is well-formed but not allowed in the resource's current state. */
export function invalidRequest(errorType: string, description: string): ApiError {
  return new ApiError(400, { errorType, errorDescription: description, message: null });
}

export function unauthorized(description: string): ApiError {
  return new ApiError(401, { error: "invalid_token", errorDescription: description }, { "WWW-Authenticate": "Bearer" });
}

export function forbidden(description: string): ApiError {
  return new ApiError(403, { error: "insufficient_scope", errorDescription: description });
}

/** 404 in the `OAuth2ErrorResponse` shape most operations declare. */
export function notFound(description: string): ApiError {
  return new ApiError(404, { error: "not_found", errorDescription: description });
}

/** 404 in the `HTCRequestError` shape the job operations declare. */
export function jobNotFound(description: string): ApiError {
  return new ApiError(404, { errorType: "NOT_FOUND", errorDescription: description, message: null });
}
