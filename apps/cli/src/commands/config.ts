// `htc config init|set|get|list|use|delete|path`: contexts of the config file, each a base URL, an API key and
// default project and task ids. `--url`, `--key`, `--project-id` and `--task-id` are the program's options; here
// they say what to store.
import { rmSync } from "node:fs";
import { DEFAULT_BASE_URL, HtcError, normalizeBaseUrl } from "@htcemu/client";
import type { Command } from "commander";
import { checkContextName, type ContextConfig, DEFAULT_CONTEXT, nonEmpty, type Session, sessionOf } from "../context.js";
import { usageError } from "../errors.js";
import { maskSecret, time } from "../output.js";

export function registerConfigCommands(program: Command): void {
  const config = program
    .command("config")
    .description("manage contexts (base URL, API key, default project and task) in the config file");

  config
    .command("init")
    .argument("[name]", "context name", DEFAULT_CONTEXT)
    .description("create the config file with a context (from --url/--key, else the environment, else production) and make it current")
    .option("--force", "overwrite the context if it exists")
    .action((name: string, opts: { force?: boolean }, command: Command) => {
      const session = sessionOf(command);
      checkContextName(name);
      if (session.store.context(name) && !opts.force) {
        throw usageError(`context ${name} exists already in ${session.store.path}`, "use `htc config set` to change it, or --force");
      }
      const url = nonEmpty(session.globals.url) ?? nonEmpty(session.env["HTC_BASE_URL"]) ?? DEFAULT_BASE_URL;
      const key = nonEmpty(session.globals.key) ?? nonEmpty(session.env["RESCALE_API_KEY"]);
      session.store.data.contexts[name] = {};
      session.store.upsert(name, {
        url: checkedUrl(url),
        apiKey: key,
        projectId: nonEmpty(session.globals.projectId),
        taskId: nonEmpty(session.globals.taskId),
      });
      session.store.data.currentContext = name;
      session.store.save();
      printContext(session, name, `Created context ${name} in ${session.store.path} (now current)`);
    });

  config
    .command("set")
    .argument("<name>", "context name (created when missing)")
    .summary("create or update a context")
    .description(
      "create or update a context from --url, --key, --project-id, --task-id (an empty value removes the setting), " +
        "e.g. htc config set emulator --url http://127.0.0.1:8787/api/v1 --key …",
    )
    .option("--use", "also make it the current context")
    .action((name: string, opts: { use?: boolean }, command: Command) => {
      const session = sessionOf(command);
      checkContextName(name);
      const g = session.globals;
      const created = !session.store.context(name);
      const urlChanged = g.url !== undefined && g.url !== session.store.context(name)?.url;
      const keyChanged = g.key !== undefined && g.key !== session.store.context(name)?.apiKey;
      session.store.upsert(name, {
        url: g.url === undefined || g.url === "" ? g.url : checkedUrl(g.url),
        apiKey: g.key,
        projectId: g.projectId,
        taskId: g.taskId,
      });
      if (opts.use || !session.store.data.currentContext) session.store.data.currentContext = name;
      session.store.save();
      // A token cached for another URL or key is useless now.
      if (urlChanged || keyChanged) rmSync(session.store.tokenFile(name), { force: true });
      printContext(session, name, `${created ? "Created" : "Updated"} context ${name}${session.store.data.currentContext === name ? " (current)" : ""}`);
    });

  config
    .command("get")
    .argument("[name]", "context name (default: the current context, with the effective settings)")
    .description("show a context; without a name, also what this command line would use and where each value comes from")
    .option("--show-key", "print the API key in full")
    .action((name: string | undefined, opts: { showKey?: boolean }, command: Command) => {
      const session = sessionOf(command);
      if (name !== undefined) {
        const ctx = session.store.context(name);
        if (!ctx) throw usageError(`no context named ${JSON.stringify(name)} in ${session.store.path}`);
        const shown = show(ctx, opts.showKey);
        session.out.result({ name, current: session.store.data.currentContext === name, ...shown }, () => {
          session.out.details(contextRows(name, shown, session.store.data.currentContext === name));
        });
        return;
      }
      const contextName = session.contextName;
      const ctx = session.store.context(contextName);
      let effective: Record<string, unknown>;
      try {
        const target = session.target();
        effective = {
          baseUrl: target.baseUrl,
          credentialKind: target.credential.kind,
          credential: opts.showKey ? target.credential.value : maskSecret(target.credential.value),
          sources: target.sources,
        };
      } catch (error) {
        if (!(error instanceof HtcError) || error.code !== "CONFIG") throw error;
        effective = { baseUrl: session.baseUrl(), credentialKind: null, credential: null, sources: { baseUrl: session.baseUrlSource(), credential: "none" } };
      }
      const token = tokenState(session);
      const result = {
        configFile: session.store.path,
        context: contextName,
        contextExists: Boolean(ctx),
        stored: ctx ? show(ctx, opts.showKey) : null,
        effective,
        token,
      };
      session.out.result(result, () => {
        const sources = effective["sources"] as { baseUrl: string; credential: string };
        session.out.details([
          ["Config file", session.store.path],
          ["Context", `${contextName}${ctx ? "" : " (not in the config file)"}`],
          ["API", `${effective["baseUrl"]} (${sources.baseUrl})`],
          ["Credential", effective["credential"] ? `${effective["credentialKind"]} ${effective["credential"]} (${sources.credential})` : "none"],
          ["Project", safeId(() => session.projectId())],
          ["Task", safeId(() => session.taskId())],
          ["Token", token ? `cached until ${time(token.expiresAt)}` : "none cached"],
        ]);
      });
    });

  config
    .command("list")
    .alias("ls")
    .description("list the contexts of the config file")
    .option("--show-keys", "print API keys in full")
    .action((opts: { showKeys?: boolean }, command: Command) => {
      const session = sessionOf(command);
      const { contexts, currentContext } = session.store.data;
      const names = Object.keys(contexts).sort();
      const result = {
        configFile: session.store.path,
        currentContext: currentContext ?? null,
        contexts: Object.fromEntries(names.map((n) => [n, show(contexts[n]!, opts.showKeys)])),
      };
      session.out.result(result, () => {
        if (names.length === 0) {
          session.out.info(`no contexts in ${session.store.path}; create one with \`htc config set <name> --url … --key …\``);
          return;
        }
        session.out.table(
          ["current", "name", "url", "key", "project", "task"],
          names.map((n) => {
            const c = contexts[n]!;
            return [n === currentContext ? "*" : "", n, c.url, opts.showKeys ? c.apiKey : maskSecret(c.apiKey), c.projectId, c.taskId];
          }),
        );
      });
    });

  config
    .command("use")
    .argument("<name>", "context name")
    .description("make a context the current one (e.g. htc config use emulator, htc config use prod)")
    .action((name: string, _opts, command: Command) => {
      const session = sessionOf(command);
      if (!session.store.context(name)) throw usageError(`no context named ${JSON.stringify(name)} in ${session.store.path}`, "create it with `htc config set`");
      session.store.data.currentContext = name;
      session.store.save();
      session.out.result({ currentContext: name }, () => session.out.line(`Switched to context ${name} (${session.store.context(name)?.url ?? "no URL"})`));
    });

  config
    .command("delete")
    .alias("rm")
    .argument("<name>", "context name")
    .description("delete a context and its cached token")
    .action((name: string, _opts, command: Command) => {
      const session = sessionOf(command);
      if (!session.store.remove(name)) throw usageError(`no context named ${JSON.stringify(name)} in ${session.store.path}`);
      session.store.save();
      rmSync(session.store.tokenFile(name), { force: true });
      session.out.result({ deleted: name, currentContext: session.store.data.currentContext ?? null }, () => session.out.line(`Deleted context ${name}`));
    });

  config
    .command("path")
    .description("print the location of the config file")
    .action((_opts, command: Command) => {
      const session = sessionOf(command);
      session.out.result({ configFile: session.store.path, exists: session.store.exists }, () => session.out.line(session.store.path));
    });
}

function checkedUrl(url: string): string {
  try {
    return normalizeBaseUrl(url);
  } catch {
    throw usageError(`invalid URL ${JSON.stringify(url)}`);
  }
}

function show(ctx: ContextConfig, showKey: boolean | undefined): ContextConfig & { hasKey: boolean } {
  return { ...ctx, ...(ctx.apiKey ? { apiKey: showKey ? ctx.apiKey : maskSecret(ctx.apiKey) } : {}), hasKey: Boolean(ctx.apiKey) };
}

function contextRows(name: string, ctx: ContextConfig, current: boolean): [string, string][] {
  return [
    ["Context", `${name}${current ? " (current)" : ""}`],
    ["URL", ctx.url ?? ""],
    ["API key", ctx.apiKey ?? ""],
    ["Project", ctx.projectId ?? ""],
    ["Task", ctx.taskId ?? ""],
  ];
}

function printContext(session: Session, name: string, message: string): void {
  const shown = show(session.store.context(name) ?? {}, false);
  session.out.result({ name, current: session.store.data.currentContext === name, configFile: session.store.path, ...shown }, () => {
    session.out.line(message);
    session.out.details(contextRows(name, shown, session.store.data.currentContext === name));
  });
}

/** The cached bearer token of the effective target, if one is fresh. */
function tokenState(session: Session): { expiresAt: string } | null {
  try {
    const token = session.tokenCache()?.load();
    return token ? { expiresAt: new Date(token.expiresAt).toISOString() } : null;
  } catch {
    return null;
  }
}

function safeId(read: () => string): string {
  try {
    return read();
  } catch {
    return "";
  }
}
