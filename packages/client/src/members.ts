// Response members the contract does not promise. The client's types follow production's description, which
// marks almost every member of a response optional, so code that needs one (an id for the next call) states it
// and gets a clear error, rather than a request to `/htc/projects/undefined`, when a server leaves it out.
import { HtcError } from "./errors.js";

/**
 * The member `key` of a response body, or an HtcError (code `UNEXPECTED_RESPONSE`) naming it when the body
 * lacks it or has `null` there. `what` names the body in that message (default: "the response").
 *
 *     const projectId = requireMember(project, "projectId");
 */
export function requireMember<T extends object, K extends keyof T & string>(body: T, key: K, what = "the response"): NonNullable<T[K]> {
  const value = body[key];
  if (value === undefined || value === null) {
    throw new HtcError("UNEXPECTED_RESPONSE", `${what} has no ${key}, which this call needs`);
  }
  return value as NonNullable<T[K]>;
}
