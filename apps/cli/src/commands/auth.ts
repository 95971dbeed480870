// `htc auth login|logout|whoami`: store the API key of a context, exchange it, show who it belongs to.
import { rmSync } from "node:fs";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { unwrap } from "@htcemu/client";
import type { Command } from "commander";
import { checkContextName, type GlobalOptions, nonEmpty, Session, sessionOf } from "../context.js";
import { usageError } from "../errors.js";
import { maskSecret, time } from "../output.js";
import { readStdin } from "./common.js";

export function registerAuthCommands(program: Command): void {
  const auth = program.command("auth").description("log in and out of a context, show who you are");

  auth
    .command("login")
    .summary("store the API key of a context, exchange it, show who it belongs to")
    .description(
      "store an API key in the current context (or --context), exchange it for a bearer token and show who it belongs to. " +
        "The key comes from --key, else RESCALE_API_KEY, else stdin (piped), else a prompt.",
    )
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      // `htc --context new auth login …` creates the context (saved only once the key has been accepted).
      const explicit = session.explicitContext;
      if (explicit !== undefined && !session.store.context(explicit)) session.store.upsert(checkContextName(explicit), {});
      // As the official CLI, a key in RESCALE_API_KEY is taken without asking.
      const key = nonEmpty(session.globals.key) ?? nonEmpty(session.env["RESCALE_API_KEY"]) ?? (await readKey());
      if (!key) throw usageError("no API key given", "pass --key, set RESCALE_API_KEY, pipe the key to stdin, or type it at the prompt");
      const name = session.contextName;
      const url = session.baseUrl();
      // Verify with exactly the URL and key that will be stored, caching the token for this context.
      const probe = new Session({ ...session.globals, url, key } as GlobalOptions, session.env, session.out, session.store);
      const client = probe.client();
      const token = await probe.auth?.exchange();
      const me = await unwrap(client.api.GET("/auth/whoami", { signal: session.signal }));
      const stored = session.store.context(name);
      session.store.upsert(name, { url: stored?.url && !session.globals.url ? undefined : url, apiKey: key });
      session.store.data.currentContext ??= name;
      session.store.save();
      const result = {
        context: name,
        baseUrl: url,
        user: me.user,
        tokenExpiresAt: token ? new Date(token.expiresAt).toISOString() : null,
      };
      session.out.result(result, () => {
        session.out.line(`Logged in to ${url} as ${userLabel(me.user)}`);
        session.out.line(`  workspace ${workspaceLabel(me.user?.workspace)}; context ${name}`);
        if (token) session.out.line(`  bearer token cached until ${time(new Date(token.expiresAt).toISOString())}`);
      });
    });

  auth
    .command("logout")
    .description("forget the API key and the cached token of the current context (or --context)")
    .action((_opts, command: Command) => {
      const session = sessionOf(command);
      const name = session.contextName;
      const ctx = session.store.context(name);
      const hadKey = Boolean(ctx?.apiKey);
      if (ctx) {
        session.store.upsert(name, { apiKey: "" });
        session.store.save();
      }
      rmSync(session.store.tokenFile(name), { force: true });
      session.out.result({ context: name, removedKey: hadKey }, () => {
        session.out.line(
          hadKey
            ? `Logged out of context ${name}: API key and cached token removed.`
            : `Context ${name} held no API key; cached token removed.`,
        );
      });
      if (session.env["RESCALE_API_KEY"] || session.env["RESCALE_API_TOKEN"]) {
        session.out.info("note: RESCALE_API_KEY (or RESCALE_API_TOKEN) is still set in the environment and still authenticates commands");
      }
    });

  auth
    .command("whoami")
    .description("show the owner of the API key (GET /auth/whoami) and the claims of the bearer token (GET /auth/token/whoami)")
    .action(async (_opts, command: Command) => {
      const session = sessionOf(command);
      const target = session.target();
      const client = session.client();
      // /auth/whoami authenticates with the key itself; a ready bearer token (inside a job) cannot call it.
      const me =
        target.credential.kind === "bearerToken" ? undefined : await unwrap(client.api.GET("/auth/whoami", { signal: session.signal }));
      const claims = (await unwrap(client.api.GET("/auth/token/whoami", { signal: session.signal }))) as Record<string, unknown>;
      const result = {
        context: session.contextName,
        baseUrl: target.baseUrl,
        sources: target.sources,
        credentialKind: target.credential.kind,
        whoami: me ?? null,
        token: claims,
      };
      session.out.result(result, () => {
        const user = me?.user;
        const exp = typeof claims["exp"] === "number" ? new Date(claims["exp"] * 1000).toISOString() : undefined;
        const roles = user
          ? [
              user.isWorkspaceAdmin ? "workspace admin" : undefined,
              user.isOrganizationAdmin ? "organization admin" : undefined,
              user.isRescaleAdmin ? "Rescale admin" : undefined,
              user.isSuperuser ? "superuser" : undefined,
            ].filter(Boolean)
          : [];
        session.out.details([
          ["Context", session.contextName],
          ["API", `${target.baseUrl} (${target.sources.baseUrl})`],
          ["Credential", `${target.credential.kind} ${maskSecret(target.credential.value)} (${target.sources.credential})`],
          ["User", user ? userLabel(user) : str(claims["userFullName"])],
          ["User id", user?.userId ?? str(claims["sub"])],
          ["Workspace", user ? workspaceLabel(user.workspace) : `${str(claims["workspaceName"])} (${str(claims["workspaceId"])})`],
          ["Organization", user?.organization?.code ?? str(claims["organizationCode"])],
          ["Roles", roles.length ? roles.join(", ") : "user"],
          ["Token expires", time(exp)],
        ]);
      });
    });
}

function str(value: unknown): string {
  return typeof value === "string" ? value : value === null || value === undefined ? "" : String(value);
}

/** The key from piped stdin, or from a prompt that does not echo it. */
async function readKey(): Promise<string | undefined> {
  if (!process.stdin.isTTY) return nonEmpty((await readStdin()).split(/\r?\n/)[0]);
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  process.stderr.write("Rescale API key: ");
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    const answer = await new Promise<string>((resolve) => rl.question("", resolve));
    process.stderr.write("\n");
    return nonEmpty(answer);
  } finally {
    rl.close();
  }
}

/** `Full Name <email>`, with what the answer has (production promises none of the members). */
function userLabel(user: { fullName?: string; email?: string } | undefined): string {
  if (!user) return "(the answer names no user)";
  const email = user.email ? `<${user.email}>` : "";
  return [user.fullName, email].filter(Boolean).join(" ") || "(the answer names no user)";
}

/** `name (id)`, with what the answer has. */
function workspaceLabel(workspace: { name?: string; id?: string } | undefined): string {
  return `${workspace?.name ?? "(unnamed)"} (${workspace?.id ?? "no id"})`;
}
