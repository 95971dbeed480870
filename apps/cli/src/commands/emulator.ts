// `htc emulator start|exec|config|proxy` and the test controls: run the local emulator (the same flags as
// `htc-emulator`, defined once in apps/emulator/src/cli-options.ts), run a command against a throwaway one, point a
// context at a running one, check a server against the contract through a proxy, and drive a running emulator
// through its admin API (emulator-controls/).
import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import { unwrap } from "@htcemu/client";
import type { Command } from "commander";
import type { EmulatorFlags } from "@htcemu/emulator/cli-options";
import { checkContextName, type GlobalOptions, nonEmpty, Session, sessionOf, signalForwarding } from "../context.js";
import { CliError, ExitCode, ExitSignal, usageError } from "../errors.js";
import { registerControlCommands } from "./emulator-controls/index.js";
import { registerProxyCommand } from "./emulator-proxy.js";

const DEFAULT_EMULATOR_URL = "http://127.0.0.1:8787";

/** The emulator's command-line options module (loading it costs ~0.2 s, so only commands that need it do). */
export type EmulatorCli = typeof import("@htcemu/emulator/cli-options");

export function loadEmulatorCli(): Promise<EmulatorCli> {
  return import("@htcemu/emulator/cli-options");
}

/**
 * `cli` is the emulator's option module when the command line may run `emulator start` or `emulator exec` (the
 * program loads it when they appear among the arguments); without it, both are declared without their flags.
 */
export function registerEmulatorCommands(program: Command, cli?: EmulatorCli): void {
  const emulator = program
    .command("emulator")
    .description(
      "run the local HTC emulator, run a command against one, point a context at one, check a server through a proxy, drive its test controls",
    );
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
    const contextName =
      flags.writeContext === undefined ? undefined : typeof flags.writeContext === "string" ? flags.writeContext : "emulator";
    if (contextName !== undefined) checkContextName(contextName);
    // Listen for SIGTERM before anything is printed: whoever reads the banner may stop us right away, and a
    // signal that arrives before its listener kills the process without stopping the emulator.
    const stopRequest = stopRequested(session.signal);
    const { startEmulator, offParts } = await import("@htcemu/emulator");
    let running: Awaited<ReturnType<typeof startEmulator>>;
    try {
      running = await startEmulator({ ...startOptionsFromFlags(flags), log: (line) => process.stderr.write(`${line}\n`) });
    } catch (error) {
      stopRequest.dispose();
      throw error;
    }
    // Every part that is off goes at the top of the banner, with the command that turns it on.
    const off = await offParts(running).catch(() => [...running.off]);
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
        executor: running.executor,
        registryHost: running.registryHost ?? null,
        off,
        context: contextName ?? null,
      },
      () => {
        session.out.write(runningBanner(running, flags, off));
        if (contextName !== undefined) session.out.line(`  context ${contextName} written to ${session.store.path} (current)\n`);
      },
    );
    const why = await stopRequest.promise;
    process.stderr.write(`received ${why}, stopping\n`);
    await running.stop().catch((error) => process.stderr.write(`error while stopping: ${error}\n`));
  });

  registerExecCommand(emulator, cli);
  registerProxyCommand(emulator);

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
      const probe = new Session({ config: session.globals.config, context: opts.name } as GlobalOptions, session.env, session.out);
      const me = await unwrap(probe.client().api.GET("/auth/whoami", { signal: session.signal }));
      const result = {
        context: opts.name,
        current: session.store.data.currentContext === opts.name,
        baseUrl: info.baseUrl,
        user: me.user.email,
        workspaceId: me.user.workspace.id,
      };
      session.out.result(result, () =>
        session.out.line(
          `Context ${opts.name} → ${info.baseUrl} as ${me.user.email} (workspace ${me.user.workspace.id})${result.current ? ", now current" : ""}`,
        ),
      );
    });

  registerControlCommands(emulator);
}

/**
 * Resolves with the name of the first stop request: SIGTERM, or SIGINT (the program aborts the session's signal on
 * Ctrl-C). The listeners are in place when this returns.
 */
export function stopRequested(signal: AbortSignal): { promise: Promise<"SIGINT" | "SIGTERM">; dispose(): void } {
  let dispose = () => {};
  const promise = new Promise<"SIGINT" | "SIGTERM">((resolve) => {
    const onTerm = () => done("SIGTERM");
    const onAbort = () => done("SIGINT");
    const done = (why: "SIGINT" | "SIGTERM") => {
      dispose();
      resolve(why);
    };
    dispose = () => {
      process.off("SIGTERM", onTerm);
      signal.removeEventListener("abort", onAbort);
    };
    process.on("SIGTERM", onTerm);
    if (signal.aborted) done("SIGINT");
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  return { promise, dispose: () => dispose() };
}

/** Signals `emulator exec` passes on to its command. */
const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

/** Variables of the caller that would point the command somewhere else than at the emulator. */
const SHADOWING_VARIABLES = [
  "HTC_CONTEXT",
  "HTC_PROJECT_ID",
  "HTC_TASK_ID",
  "RESCALE_API_TOKEN",
  "RESCALE_HTC_BEARER_TOKEN",
  "RESCALE_HTC_REFRESH_TOKEN",
];

/** The environment of the command `emulator exec` runs: the caller's, pointed at the emulator. */
export function execEnvironment(
  base: NodeJS.ProcessEnv,
  emulator: { baseUrl: string; rootUrl: string; apiKey: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of SHADOWING_VARIABLES) delete env[name];
  env["HTC_BASE_URL"] = emulator.baseUrl;
  env["RESCALE_HTC_API_URL"] = emulator.baseUrl;
  env["RESCALE_API_KEY"] = emulator.apiKey;
  env["HTC_EMULATOR_URL"] = emulator.rootUrl;
  return env;
}

/** The exit code of a shell for a process that ended with `code` or was killed by `signal`. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal ? constants.signals[signal] : undefined;
  return number === undefined ? 1 : 128 + number;
}

function registerExecCommand(emulator: Command, cli: EmulatorCli | undefined): void {
  const exec = emulator
    .command("exec")
    .summary("run a command against a throwaway emulator, then stop it")
    .description(
      "start an emulator in this process (every flag of `htc emulator start`; here --port defaults to 0 and the state " +
        "is in memory unless --data-dir is given), run the command with HTC_BASE_URL, RESCALE_API_KEY (also " +
        "RESCALE_HTC_API_URL) and HTC_EMULATOR_URL (the root URL of the admin API) pointing at it, forward signals to " +
        "the command, stop the emulator when it exits, and exit with its exit code (128+n when killed by signal n)",
    )
    .argument("<command...>", "the command and its arguments; put them after -- so that their options stay theirs")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  htc emulator exec -- npm test",
        "  htc emulator exec --executor simulated -- node my-flow.mjs",
        "  htc emulator exec --data-dir ./state --port 8787 -- sh -c 'htc project create --name demo && ./run.sh'",
      ].join("\n"),
    );
  for (const option of cli?.emulatorOptions() ?? []) {
    if (option.long === "--port") option.default("0");
    exec.addOption(option);
  }
  exec.action(async (commandLine: string[], flags: EmulatorFlags, command: Command) => {
    const session = sessionOf(command);
    const [file, ...args] = commandLine;
    if (!file) throw usageError("no command to run", "htc emulator exec [flags] -- <command> [args…]");
    const { startOptionsFromFlags, booleanFlag } = cli ?? (await loadEmulatorCli());
    // exec is throwaway unless a data dir is named (flag or variable): then the state is kept for the next run.
    const inMemory = booleanFlag(flags, "inMemory") ?? command.getOptionValueSource("dataDir") === "default";
    const options = startOptionsFromFlags({ ...flags, inMemory });

    let child: ChildProcess | undefined;
    let childEnded = false;
    let early: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (child && !childEnded) {
        // The child may be gone already; then its exit is on its way.
        try {
          child.kill(signal);
        } catch {}
        return;
      }
      // While the emulator stops after the command, a signal ends htc at once.
      if (childEnded) process.exit(exitCodeOf(null, signal));
      // During start-up: the command is not started.
      early ??= signal;
    };
    const listeners = FORWARDED_SIGNALS.map((signal) => [signal, () => onSignal(signal)] as const);
    for (const [signal, listener] of listeners) process.on(signal, listener);
    signalForwarding.active = true;
    try {
      const { startEmulator } = await import("@htcemu/emulator");
      const running = await startEmulator({ ...options, log: (line) => process.stderr.write(`[emulator] ${line}\n`) });
      let exitCode: number;
      try {
        if (early) exitCode = exitCodeOf(null, early);
        else {
          const started = spawn(file, args, { stdio: "inherit", env: execEnvironment(session.env, running) });
          child = started;
          const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: NodeJS.ErrnoException }>(
            (resolve) => {
              // 'error' also reports a failed kill(); only a failed spawn (no pid) ends the wait.
              started.on("error", (error) => {
                if (started.pid === undefined) resolve({ error });
              });
              started.once("exit", (code, signal) => resolve({ code, signal }));
            },
          );
          childEnded = true;
          if ("error" in ended) {
            const notFound = ended.error.code === "ENOENT";
            throw new CliError(
              `cannot run ${file}: ${notFound ? "command not found" : ended.error.message}`,
              notFound ? ExitCode.COMMAND_NOT_FOUND : ExitCode.CANNOT_EXECUTE,
              notFound ? "is it installed and on PATH? (the command runs without a shell; use sh -c '…' for shell syntax)" : undefined,
            );
          }
          exitCode = exitCodeOf(ended.code, ended.signal);
        }
      } finally {
        childEnded = true;
        await running
          .stop()
          .catch((error) => process.stderr.write(`htc: error while stopping the emulator: ${(error as Error).message}\n`));
      }
      if (exitCode !== 0) throw new ExitSignal(exitCode);
    } finally {
      signalForwarding.active = false;
      for (const [signal, listener] of listeners) process.off(signal, listener);
    }
  });
}

/** A GET of the emulator's admin API (unauthenticated, local). */
async function admin<T>(root: string, path: string): Promise<T> {
  const url = `${root}/_emulator/v1${path}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new CliError(
      `no emulator answers at ${root}: ${(error as Error).message}`,
      ExitCode.NETWORK,
      "start one with `htc emulator start`, or pass --url",
    );
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
  throw usageError(
    email === undefined
      ? `the emulator at ${root} has no user with an API key`
      : `no user ${email} with an API key in the emulator at ${root}`,
  );
}
