// `htc emulator start|config`: run the local emulator (the same flags as `htc-emulator`, defined once in
// apps/emulator/src/cli-options.ts) and point a context at a running one.
import { unwrap } from "@htcemu/client";
import type { Command } from "commander";
import type { EmulatorFlags } from "@htcemu/emulator/cli-options";
import { checkContextName, type GlobalOptions, nonEmpty, Session, sessionOf } from "../context.js";
import { CliError, ExitCode, usageError } from "../errors.js";

const DEFAULT_EMULATOR_URL = "http://127.0.0.1:8787";

/** The emulator's command-line options module (loading it costs ~0.2 s, so only commands that need it do). */
export type EmulatorCli = typeof import("@htcemu/emulator/cli-options");

export function loadEmulatorCli(): Promise<EmulatorCli> {
  return import("@htcemu/emulator/cli-options");
}

/**
 * `cli` is the emulator's option module when the command line may run `emulator start` (the program loads it
 * when `emulator` appears among the arguments); without it, `start` is declared without its flags.
 */
export function registerEmulatorCommands(program: Command, cli?: EmulatorCli): void {
  const emulator = program.command("emulator").description("run the local HTC emulator, or point a context at a running one");
  const addEmulatorOptions = cli?.addEmulatorOptions ?? (<C extends Command>(command: C) => command);

  addEmulatorOptions(
    emulator
      .command("start")
      .summary("start an emulator in the foreground (Ctrl-C stops it)")
      .description("start an emulator in the foreground (Ctrl-C stops it); every flag has an HTC_EMULATOR_* variable")
      .option("--write-context [name]", "also write a context (default name: emulator) for it and make it current"),
  ).action(async (flags: EmulatorFlags & { writeContext?: string | boolean }, command: Command) => {
    const session = sessionOf(command);
    const { runningBanner, startOptionsFromFlags } = cli ?? (await loadEmulatorCli());
    const contextName = flags.writeContext === undefined ? undefined : typeof flags.writeContext === "string" ? flags.writeContext : "emulator";
    if (contextName !== undefined) checkContextName(contextName);
    const { startEmulator } = await import("@htcemu/emulator");
    const running = await startEmulator({ ...startOptionsFromFlags(flags), log: (line) => process.stderr.write(`${line}\n`) });
    if (contextName !== undefined) {
      session.store.upsert(contextName, { url: running.baseUrl, apiKey: running.apiKey, projectId: "", taskId: "" });
      session.store.data.currentContext = contextName;
      session.store.save();
    }
    session.out.result(
      {
        baseUrl: running.baseUrl,
        rootUrl: running.rootUrl,
        apiKey: running.apiKey,
        workspaceId: running.workspaceId,
        executor: running.services.executorName(),
        context: contextName ?? null,
      },
      () => {
        session.out.write(runningBanner(running, flags));
        if (contextName !== undefined) session.out.line(`  context ${contextName} written to ${session.store.path} (current)\n`);
      },
    );
    await new Promise<void>((resolve) => {
      const stop = (why: string) => {
        process.off("SIGTERM", onTerm);
        process.stderr.write(`received ${why}, stopping\n`);
        running.stop().then(resolve, (error) => {
          process.stderr.write(`error while stopping: ${error}\n`);
          resolve();
        });
      };
      const onTerm = () => stop("SIGTERM");
      process.on("SIGTERM", onTerm);
      session.signal.addEventListener("abort", () => stop("SIGINT"), { once: true });
    });
  });

  emulator
    .command("config")
    .summary("write a context pointing at a running emulator")
    .description(
      "write a context for a running emulator (--url, default http://127.0.0.1:8787) with the API key of its default " +
        "user, found through the emulator's admin API (or --key), and make it current",
    )
    .option("--name <context>", "context name", "emulator")
    .option("--email <email>", "use the API key of this user instead of the first user")
    .option("--no-use", "do not make it the current context")
    .action(async (opts: { name: string; email?: string; use: boolean }, command: Command) => {
      const session = sessionOf(command);
      checkContextName(opts.name);
      const given = nonEmpty(session.globals.url) ?? DEFAULT_EMULATOR_URL;
      const root = given.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
      const info = await admin<{ baseUrl: string; executor: string }>(root, "/info");
      const key = nonEmpty(session.globals.key) ?? (await findApiKey(root, opts.email));
      const isNew = !session.store.context(opts.name);
      session.store.upsert(opts.name, { url: info.baseUrl, apiKey: key, ...(isNew ? {} : { projectId: "", taskId: "" }) });
      if (opts.use) session.store.data.currentContext = opts.name;
      session.store.save();
      // Verify the key (and cache a token) through the new context.
      const probe = new Session({ config: session.globals.config, context: opts.name, json: session.globals.json } as GlobalOptions, session.env, session.out);
      const me = await unwrap(probe.client().api.GET("/auth/whoami", { signal: session.signal }));
      const result = { context: opts.name, current: session.store.data.currentContext === opts.name, baseUrl: info.baseUrl, user: me.user.email, workspaceId: me.user.workspace.id };
      session.out.result(result, () =>
        session.out.line(
          `Context ${opts.name} → ${info.baseUrl} as ${me.user.email} (workspace ${me.user.workspace.id})${result.current ? ", now current" : ""}`,
        ),
      );
    });
}

/** A GET of the emulator's admin API (unauthenticated, local). */
async function admin<T>(root: string, path: string): Promise<T> {
  const url = `${root}/_emulator/v1${path}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new CliError(`no emulator answers at ${root}: ${(error as Error).message}`, ExitCode.NETWORK, "start one with `htc emulator start`, or pass --url");
  }
  if (!response.ok) throw new CliError(`GET ${url} answered ${response.status}: is ${root} an HTC emulator?`, ExitCode.API);
  return (await response.json()) as T;
}

async function findApiKey(root: string, email: string | undefined): Promise<string> {
  const workspaces = await admin<{ id: string }[]>(root, "/workspaces");
  for (const workspace of workspaces) {
    const users = await admin<{ email: string; apiKeys: string[] }[]>(root, `/workspaces/${encodeURIComponent(workspace.id)}/users`);
    const user = email === undefined ? users.find((u) => u.apiKeys.length > 0) : users.find((u) => u.email === email);
    if (user?.apiKeys[0]) return user.apiKeys[0];
    if (email === undefined && users.length > 0) break;
  }
  throw usageError(email === undefined ? `the emulator at ${root} has no user with an API key` : `no user ${email} with an API key in the emulator at ${root}`);
}
