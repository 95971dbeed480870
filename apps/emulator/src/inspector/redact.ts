// What the request inspector hides. Secrets are found by where they are, not by what they look like: headers that
// carry credentials keep only their scheme, the signature and credential parameters of SigV4 presigned URLs are
// replaced (in a query string, or inside any string of a JSON body), and JSON members named like a secret lose
// their value, as do the values of job environment variables (`{name, value}`) whose name says secret.
export const REDACTED = "[redacted]";

/** Headers whose value is a credential. `Authorization` keeps its scheme (`Bearer [redacted]`). */
const SECRET_HEADERS = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie", "x-amz-security-token", "x-api-key"]);

/** Query parameters that carry a credential (SigV4 presigned URLs, tokens passed in the query). */
const SECRET_PARAMS = new Set([
  "x-amz-signature",
  "x-amz-credential",
  "x-amz-security-token",
  "signature",
  "token",
  "access_token",
  "apikey",
  "api_key",
]);

/** JSON member names (lower case, without `_` and `-`) whose value is a secret. */
const SECRET_MEMBERS = new Set([
  "apikey",
  "apikeys",
  "password",
  "passwd",
  "secret",
  "token",
  "tokenvalue",
  "accesstoken",
  "refreshtoken",
  "bearertoken",
  "idtoken",
  "jobtoken",
  "sessiontoken",
  "clientsecret",
  "privatekey",
  "authorization",
  "accesskeyid",
  "secretaccesskey",
  "awsaccesskeyid",
  "awssecretaccesskey",
  "awssessiontoken",
  "xamzsignature",
  "xamzcredential",
  "xamzsecuritytoken",
]);

/** A job environment variable whose name says it holds a secret. */
const SECRET_ENV_NAME = /(secret|token|passw|api_?key|access_?key|credential|private_?key)/i;

function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, "");
}

export function isSecretMember(name: string): boolean {
  const n = normalize(name);
  return SECRET_MEMBERS.has(n) || n.endsWith("token") || n.endsWith("secret") || n.endsWith("password") || n.endsWith("apikey");
}

export function redactHeader(name: string, value: string): string {
  const lower = name.toLowerCase();
  if (!SECRET_HEADERS.has(lower)) return value;
  if (lower === "authorization" || lower === "proxy-authorization") {
    const space = value.indexOf(" ");
    return space > 0 ? `${value.slice(0, space)} ${REDACTED}` : REDACTED;
  }
  return REDACTED;
}

const SIGNED_PARAM = /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&#"\s]*/gi;

/** A query string (without `?`) with its secret parameters replaced. */
export function redactQuery(query: string): string {
  if (query === "") return query;
  return query
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // keep it as sent
      }
      return eq >= 0 && SECRET_PARAMS.has(decoded.toLowerCase()) ? `${name}=${encodeURIComponent(REDACTED)}` : pair;
    })
    .join("&");
}

/** Presigned URLs inside a string keep their shape but lose their signature and credential. */
function redactString(value: string): string {
  return value.includes("X-Amz-") || value.includes("x-amz-") ? value.replace(SIGNED_PARAM, `$1${encodeURIComponent(REDACTED)}`) : value;
}

function redactValue(value: unknown): unknown {
  if (typeof value === "string") return redactString(value);
  if (Array.isArray(value)) return value.map(redactValue);
  if (value && typeof value === "object") {
    const object = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    // An environment variable entry: {name, value}.
    const envSecret = typeof object.name === "string" && "value" in object && SECRET_ENV_NAME.test(object.name);
    for (const [key, member] of Object.entries(object)) {
      if (envSecret && key === "value") out[key] = REDACTED;
      else if (isSecretMember(key) && (typeof member !== "object" || member === null)) out[key] = member === null ? null : REDACTED;
      else if (isSecretMember(key) && Array.isArray(member))
        out[key] = member.map((m) => (typeof m === "object" && m !== null ? redactValue(m) : REDACTED));
      else out[key] = redactValue(member);
    }
    return out;
  }
  return value;
}

// A member and its value when the value is a string or an array of strings (possibly cut at the end).
const MEMBER = /"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*"?|\[(?:\s*"(?:[^"\\]|\\.)*"?\s*,?)*\]?)/g;

/**
 * A JSON text with its secrets replaced. A complete document is parsed and walked; a cut one (longer than the
 * inspector's limit) is scanned member by member, so a secret cut in the middle is still hidden.
 */
export function redactJsonText(text: string, complete: boolean): string {
  if (complete) {
    try {
      return JSON.stringify(redactValue(JSON.parse(text)));
    } catch {
      // not JSON after all: scan it
    }
  }
  let out = text.replace(MEMBER, (whole, name: string, colon: string, value: string) => {
    if (!isSecretMember(name)) return whole;
    return value.startsWith("[") ? `"${name}"${colon}["${REDACTED}"]` : `"${name}"${colon}"${REDACTED}"`;
  });
  // Environment entries: {"name":"API_TOKEN","value":"..."}.
  out = out.replace(/("name"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"value"\s*:\s*)"(?:[^"\\]|\\.)*"?/g, (whole, head: string, name: string) =>
    SECRET_ENV_NAME.test(name) ? `${head}"${REDACTED}"` : whole,
  );
  return redactString(out);
}

/** A text body that is not JSON: only presigned URLs in it are touched. */
export function redactText(text: string): string {
  return redactString(text);
}
