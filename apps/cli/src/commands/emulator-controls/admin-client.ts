// Finding the emulator whose test controls a command drives, and the typed admin client for it. The emulator is
// --emulator-url, then HTC_EMULATOR_URL, then the root of the current target's base URL (`/api/v1` stripped); its
// admin token (required off loopback, or when the emulator was given one) is --admin-token, then
// HTC_EMULATOR_ADMIN_TOKEN, the variable the emulator itself reads. The admin client runs on the client's shared
// transport (timeouts, Ctrl-C); errors.ts words its "no answer" and 401 errors.
import { type AdminClient, createAdminClient } from "@htcemu/client/admin";
import type { Command } from "commander";
import { nonEmpty, type Session, sessionOf, USER_AGENT } from "../../context.js";
import { usageError } from "../../errors.js";

const PRODUCTION_HOST = "htc.rescale.com";

/** Where the admin API is: --emulator-url, HTC_EMULATOR_URL, or the root of the current target's base URL. */
export function emulatorRootUrl(session: Session, flag: string | undefined): { root: string; source: string } {
  const given = nonEmpty(flag) ?? nonEmpty(session.env["HTC_EMULATOR_URL"]);
  const source = nonEmpty(flag) ? "flag --emulator-url" : given ? "env HTC_EMULATOR_URL" : undefined;
  const hint = "pass --emulator-url http://127.0.0.1:8787, set HTC_EMULATOR_URL, or use a context of an emulator (`htc emulator config`)";
  let url: string;
  let from: string;
  if (given) {
    url = given;
    from = source!;
  } else {
    if (session.baseUrlSource() === "default") throw usageError("no emulator to talk to", hint);
    url = session.baseUrl();
    from = session.baseUrlSource();
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`invalid emulator URL ${JSON.stringify(url)} (from ${from})`, hint);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw usageError(`invalid emulator URL ${JSON.stringify(url)} (from ${from})`, hint);
  if (!given && parsed.hostname === PRODUCTION_HOST) {
    throw usageError(`the current target ${url} (from ${from}) is production, which has no test controls`, hint);
  }
  const root = url.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  return { root, source: from };
}

/** The emulator's admin token: --admin-token, then HTC_EMULATOR_ADMIN_TOKEN; undefined when neither is set. */
export function adminTokenOf(session: Session, flag: string | undefined): string | undefined {
  return nonEmpty(flag) ?? nonEmpty(session.env["HTC_EMULATOR_ADMIN_TOKEN"]);
}

/** A typed admin client for the command's emulator, on the client's transport: Ctrl-C aborts, requests time out. */
export function adminClientOf(command: Command): { admin: AdminClient; root: string; session: Session } {
  const session = sessionOf(command);
  const flags = command.optsWithGlobals() as { emulatorUrl?: string; adminToken?: string };
  const { root } = emulatorRootUrl(session, flags.emulatorUrl);
  const adminToken = adminTokenOf(session, flags.adminToken);
  const admin = createAdminClient(root, {
    timeoutMs: session.requestTimeoutMs(),
    signal: session.signal,
    userAgent: USER_AGENT,
    ...(adminToken ? { adminToken } : {}),
  });
  return { admin, root, session };
}

/** The --admin-token option of the commands that talk to the admin API (flags and description). */
export const ADMIN_TOKEN_OPTION = [
  "--admin-token <token>",
  "the emulator's admin token, required off loopback (env HTC_EMULATOR_ADMIN_TOKEN; printed when the emulator starts)",
] as const;

/** Adds --emulator-url and --admin-token to a command that talks to the admin API. */
export function withEmulatorTarget(command: Command): Command {
  return command
    .option("--emulator-url <url>", "the emulator's root URL (env HTC_EMULATOR_URL; default: the current target's, without /api/v1)")
    .option(...ADMIN_TOKEN_OPTION);
}
