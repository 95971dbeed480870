// Which signature a request carries, and its verification: Signature Version 4 (sigv4.ts) or 2 (sigv2.ts), each in
// the Authorization header or in the query string (presigned URLs). Exactly one mechanism per request; a request
// that carries none is anonymous (refused by access.ts); one of a kind the emulator does not speak, or malformed,
// is refused with an error that says so rather than treated as anonymous.
import { s3Errors } from "./errors.js";
import { type RequestView, single } from "./request-view.js";
import { parseSigV2Header, parseSigV2Query, SIGV2_SCHEME, type SigV2Auth, verifySigV2 } from "./sigv2.js";
import { longDateMs, parseSigV4Header, parseSigV4Query, SIGV4_ALGORITHM, type SigV4Auth, verifySigV4 } from "./sigv4.js";

export type AuthInfo = SigV4Auth | SigV2Auth;

type Query = Record<string, string | string[]>;

/** How the request is authenticated; undefined for an anonymous request. */
export function parseAuth(view: RequestView, query: Query): AuthInfo | undefined {
  const header = single(view.headers["authorization"]);
  // Any of a mechanism's parameters announces it, so a URL missing some of them is told which.
  const v4Query = "X-Amz-Algorithm" in query || "X-Amz-Credential" in query || "X-Amz-Signature" in query;
  const v2Query = "Signature" in query || "AWSAccessKeyId" in query;
  if (Number(header !== undefined) + Number(v4Query) + Number(v2Query) > 1) throw s3Errors.conflictingAuth();
  if (header !== undefined) {
    if (header.startsWith(`${SIGV4_ALGORITHM} `)) return parseSigV4Header(header, view);
    if (header.startsWith(SIGV2_SCHEME)) return parseSigV2Header(header, view);
    throw s3Errors.unsupportedAuthorization(header.split(/\s/, 1)[0] ?? "");
  }
  if (v4Query) return parseSigV4Query(query);
  if (v2Query) return parseSigV2Query(query);
  return undefined;
}

/** Presigned URLs: the moment (milliseconds) the URL stops working; undefined for header signatures. */
export function presignedExpiry(auth: AuthInfo): number | undefined {
  if (auth.via !== "query") return undefined;
  return auth.version === 4 ? longDateMs(auth.longDate) + auth.expiresSeconds! * 1000 : auth.expires! * 1000;
}

/** Throws SignatureDoesNotMatch unless the request is signed with `secretAccessKey`. */
export async function verifySignature(view: RequestView, query: Query, auth: AuthInfo, secretAccessKey: string): Promise<void> {
  if (auth.version === 4) await verifySigV4(view, query, auth, secretAccessKey);
  else verifySigV2(view, query, auth, secretAccessKey);
}
