// The admin token. When the emulator listens off loopback (in a container with published ports, on a shared
// machine), anyone who reaches the port could reset it or read its API keys through the admin API, so the admin
// API and the dashboard then require the token: `Authorization: Bearer <token>`, or the HttpOnly cookie that the
// dashboard's sign-in page sets (SameSite=Strict, so other sites cannot ride on it). A refused request is
// answered before any operation runs, so it changes nothing. On loopback they stay open unless a token was given.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Hono, MiddlewareHandler } from "hono";
import { credential } from "./auth.js";
import type { AppEnv } from "./env.js";
import type { Recorder } from "./inspect.js";
import { isLoopbackHost } from "../options.js";

export const ADMIN_COOKIE = "htc_emulator_admin";

/** The token the admin API and the dashboard require: the one given; off loopback one made up now; else none. */
export function adminTokenFor(host: string, given: string | undefined): string | undefined {
  return given ?? (isLoopbackHost(host) ? undefined : randomBytes(18).toString("base64url"));
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Compares in constant time (over digests, so lengths do not leak either). */
function sameToken(given: string | undefined, expected: Buffer): boolean {
  return given !== undefined && timingSafeEqual(digest(given), expected);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Guards `adminPrefix` and `uiPrefix` with `token`; registers the dashboard's sign-in (`POST <uiPrefix>_session`).
 * Must run before the routes it guards. Refused admin requests are recorded by `recorder` when the inspector is on.
 */
export function guardWithAdminToken(app: Hono<AppEnv>, token: string, adminPrefix: string, uiPrefix: string, recorder?: Recorder): void {
  const expected = digest(token);
  const accepted = (authorization: string | undefined, cookie: string | undefined) =>
    sameToken(credential(authorization, "bearer"), expected) || sameToken(cookieValue(cookie, ADMIN_COOKIE), expected);

  app.post(`${uiPrefix}_session`, async (c) => {
    let given: unknown;
    try {
      given = ((await c.req.json()) as { token?: unknown }).token;
    } catch {
      given = undefined;
    }
    if (typeof given !== "string" || !sameToken(given, expected)) {
      return c.json({ error: "invalid_token", errorDescription: "The admin token is not the one this emulator was started with." }, 401);
    }
    c.header("Set-Cookie", `${ADMIN_COOKIE}=${encodeURIComponent(given)}; Path=/; HttpOnly; SameSite=Strict`);
    return c.body(null, 204);
  });

  const guard: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (accepted(c.req.header("authorization"), c.req.header("cookie"))) return next();
    c.header("WWW-Authenticate", 'Bearer realm="htc-emulator-admin"');
    if (c.req.path.startsWith(uiPrefix) || c.req.path === uiPrefix.slice(0, -1)) {
      c.header("Cache-Control", "no-store");
      return c.html(signInPage(uiPrefix), 401);
    }
    const exchange = recorder?.open(c);
    const refused = c.json(
      {
        error: "invalid_token",
        errorDescription:
          "This emulator listens off loopback: the admin API requires its admin token (printed at start, or given with --admin-token / HTC_EMULATOR_ADMIN_TOKEN) as 'Authorization: Bearer <token>'.",
      },
      401,
    );
    return recorder && exchange ? recorder.close(c, exchange, refused) : refused;
  };
  app.use(`${adminPrefix}/*`, guard);
  app.use(uiPrefix.slice(0, -1), guard);
  app.use(`${uiPrefix}*`, guard);
}

/** The page a browser gets without the token: it asks for it, or takes it from `#token=…` in the address. */
function signInPage(uiPrefix: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>HTC emulator: sign in</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;background:#f5f6f8;color:#1d2330}
form{background:#fff;padding:2rem;border-radius:10px;box-shadow:0 1px 4px #0002;max-width:26rem;width:100%}
h1{font-size:1.2rem;margin:0 0 .5rem}label{display:block;margin:1rem 0 .3rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #8a93a6;border-radius:6px;font:inherit}
button{margin-top:1rem;padding:.5rem 1.2rem;border:0;border-radius:6px;background:#1f5fbf;color:#fff;font:inherit;cursor:pointer}
p.error{color:#a1151b}
</style>
</head>
<body>
<main>
<form id="f">
<h1>HTC emulator dashboard</h1>
<p>This emulator listens off loopback, so its dashboard needs the admin token it printed at start.</p>
<label for="t">Admin token</label>
<input id="t" name="token" type="password" autocomplete="off" required>
<p class="error" id="e" role="alert"></p>
<button type="submit">Sign in</button>
</form>
</main>
<script>
const f=document.getElementById("f"),t=document.getElementById("t"),e=document.getElementById("e");
async function signIn(token){
  const r=await fetch(${JSON.stringify(`${uiPrefix}_session`)},{method:"POST",headers:{"content-type":"application/json"},body:JSON.stringify({token})});
  if(r.ok){location.replace(location.pathname+location.search);return}
  e.textContent="The token was not accepted.";
}
f.addEventListener("submit",(ev)=>{ev.preventDefault();signIn(t.value)});
const m=/(?:^#|&)token=([^&]+)/.exec(location.hash);
if(m){history.replaceState(null,"",location.pathname+location.search);signIn(decodeURIComponent(m[1]))}
</script>
</body>
</html>`;
}
