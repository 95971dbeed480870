// `htc config init|set|unset|get|list|use|delete|path|context`: contexts of the config file, each a base URL, an
// API key and default project and task ids, and the file's global settings. Two ways into the same settings:
// the official CLI's `config set KEY VALUE [--global]` (keys api_url, api_key, project_id, task_id; globally
// api_url, output_format, selected_context) and `config context get|use|delete`, and this CLI's
// `config set <context> --url … --key …`, where `--url`, `--key`, `--project-id` and `--task-id` (the program's
// options) say what to store.
import { rmSync } from "node:fs";
import { DEFAULT_BASE_URL, HtcError, normalizeBaseUrl } from "@htcemu/client";
import type { Command } from "commander";
import { checkContextName, type ContextConfig, DEFAULT_CONTEXT, nonEmpty, type Session, sessionOf } from "../context.js";
import { usageError } from "../errors.js";
import { maskSecret, OUTPUT_FORMATS, type OutputFormat, time } from "../output.js";

/** The official CLI's keys of a context, and the fields they are stored in. */
const CONTEXT_KEYS = { api_url: "url", api_key: "apiKey", project_id: "projectId", task_id: "taskId" } as const satisfies Record<
  string,
  keyof ContextConfig
>;
/** The official CLI's global keys (api_url is both: a context's wins). */
const GLOBAL_KEYS = ["api_url", "output_format", "selected_context"] as const;
type ContextKey = keyof typeof CONTEXT_KEYS;
type GlobalKey = (typeof GLOBAL_KEYS)[number];
const KEY_LIST = `${Object.keys(CONTEXT_KEYS).join(", ")}; with --global: ${GLOBAL_KEYS.join(", ")}`;

export function registerConfigCommands(program: Command): void {
  const config = program.command("config").description("manage contexts (base URL, API key, default project and task) in the config file");

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
    .argument(
      "<key|context>",
      `a key (${Object.keys(CONTEXT_KEYS).join(", ")}, …) followed by its value, or a context to change with the flags`,
    )
    .argument("[value]", "the key's value")
    .summary("set a key of the current context (or --global), or create or update a context from flags")
    .description(
      "set KEY VALUE: sets a key of the current context (--context for another; created when missing), or with " +
        `--global of the file's global settings. Keys: ${KEY_LIST}.\n` +
        "set <context> [--url …] [--key …] [--project-id …] [--task-id …] [--use]: creates or updates that context " +
        "(an empty value removes a setting), e.g. htc config set emulator --url http://127.0.0.1:8787/api/v1 --key …",
    )
    .option("--global", "KEY VALUE: change the global settings instead of a context")
    .option("--use", "<context>: also make it the current context")
    .action((target: string, value: string | undefined, opts: { global?: boolean; use?: boolean }, command: Command) => {
      const session = sessionOf(command);
      if (value !== undefined) return setKey(session, target, value, opts);
      if (isKey(target))
        throw usageError(`missing the value: htc config set ${target} VALUE`, `unset it with \`htc config unset ${target}\``);
      if (opts.global)
        throw usageError("--global goes with KEY VALUE, e.g. htc config set api_url https://htc.rescale.com/api/v1 --global");
      const g = session.globals;
      updateContext(session, target, { url: g.url, apiKey: g.key, projectId: g.projectId, taskId: g.taskId }, Boolean(opts.use));
    });

  config
    .command("unset")
    .argument("<key>", `the key (${KEY_LIST})`)
    .description("remove a key from the current context (--context for another), or with --global from the global settings")
    .option("--global", "change the global settings instead of a context")
    .action((key: string, opts: { global?: boolean }, command: Command) => setKey(sessionOf(command), key, undefined, opts));

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
        effective = {
          baseUrl: session.baseUrl(),
          credentialKind: null,
          credential: null,
          sources: { baseUrl: session.baseUrlSource(), credential: "none" },
        };
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
          [
            "Credential",
            effective["credential"] ? `${effective["credentialKind"]} ${effective["credential"]} (${sources.credential})` : "none",
          ],
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
    .action(listContexts);
  config
    .command("use")
    .argument("<name>", "context name")
    .description("make a context the current one (e.g. htc config use emulator, htc config use prod)")
    .action((name: string, _opts, command: Command) => useContext(sessionOf(command), name, false));
  config
    .command("delete")
    .alias("rm")
    .argument("<name>", "context name")
    .description("delete a context and its cached token")
    .action((name: string, _opts, command: Command) => deleteContext(sessionOf(command), name));

  // The official CLI's spellings of list, use and delete.
  const context = config.command("context").description("the contexts of the config file: get (list), use, delete");
  context
    .command("get")
    .description("list the contexts; the current one is marked *")
    .option("--show-keys", "print API keys in full")
    .action(listContexts);
  context
    .command("use")
    .argument("<name>", "context name (created empty when missing)")
    .description("make a context the current one, creating it when missing (then set its keys with htc config set)")
    .action((name: string, _opts, command: Command) => useContext(sessionOf(command), name, true));
  context
    .command("delete")
    .argument("<name>", "context name")
    .description("delete a context and its cached token")
    .action((name: string, _opts, command: Command) => deleteContext(sessionOf(command), name));

  config
    .command("path")
    .description("print the location of the config file")
    .action((_opts, command: Command) => {
      const session = sessionOf(command);
      session.out.result({ configFile: session.store.path, exists: session.store.exists }, () => session.out.line(session.store.path));
    });
}

function listContexts(opts: { showKeys?: boolean }, command: Command): void {
  const session = sessionOf(command);
  const { contexts, currentContext, global } = session.store.data;
  const names = Object.keys(contexts).sort();
  const result = {
    configFile: session.store.path,
    currentContext: currentContext ?? null,
    global: global ?? {},
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
        return [
          n === currentContext ? "*" : "",
          n,
          c.url ?? (global?.url ? `(${global.url})` : ""),
          opts.showKeys ? c.apiKey : maskSecret(c.apiKey),
          c.projectId,
          c.taskId,
        ];
      }),
    );
  });
}

/** Makes `name` current; `create` makes a missing context (the official CLI's `config context use`). */
function useContext(session: Session, name: string, create: boolean): void {
  checkContextName(name);
  const created = !session.store.context(name);
  if (created && !create)
    throw usageError(`no context named ${JSON.stringify(name)} in ${session.store.path}`, "create it with `htc config set`");
  if (created) session.store.upsert(name, {});
  session.store.data.currentContext = name;
  session.store.save();
  session.out.result({ currentContext: name }, () =>
    session.out.line(`Switched to context ${name} (${created ? "new, empty" : (session.store.context(name)?.url ?? "no URL")})`),
  );
}

function deleteContext(session: Session, name: string): void {
  if (!session.store.remove(name)) throw usageError(`no context named ${JSON.stringify(name)} in ${session.store.path}`);
  session.store.save();
  rmSync(session.store.tokenFile(name), { force: true });
  session.out.result({ deleted: name, currentContext: session.store.data.currentContext ?? null }, () =>
    session.out.line(`Deleted context ${name}`),
  );
}

function isKey(name: string): boolean {
  return name in CONTEXT_KEYS || (GLOBAL_KEYS as readonly string[]).includes(name);
}

/**
 * Creates or updates a context (`undefined` leaves a field alone, an empty string removes it) and saves the file;
 * both forms of `config set` end here.
 */
function updateContext(
  session: Session,
  name: string,
  changes: Partial<Record<keyof ContextConfig, string | undefined>>,
  use: boolean,
): void {
  checkContextName(name);
  const before = session.store.context(name);
  const url = changes.url;
  session.store.upsert(name, { ...changes, url: url === undefined || url === "" ? url : checkedUrl(url) });
  if (use || !session.store.data.currentContext) session.store.data.currentContext = name;
  session.store.save();
  const after = session.store.context(name);
  // A token cached for another URL or key is useless now.
  if (after?.url !== before?.url || after?.apiKey !== before?.apiKey) rmSync(session.store.tokenFile(name), { force: true });
  printContext(
    session,
    name,
    `${before ? "Updated" : "Created"} context ${name}${session.store.data.currentContext === name ? " (current)" : ""}`,
  );
}

/** `config set KEY VALUE [--global]` and `config unset KEY [--global]` (value undefined). */
function setKey(session: Session, key: string, value: string | undefined, opts: { global?: boolean; use?: boolean }): void {
  if (!isKey(key))
    throw usageError(
      `unknown config key ${JSON.stringify(key)}: use ${KEY_LIST}`,
      "a context is changed with flags: htc config set <context> --url … --key …",
    );
  if (opts.use) throw usageError("--use goes with a context: htc config set <context> --url … --use (or htc config context use NAME)");
  const contextKey = (key in CONTEXT_KEYS ? key : undefined) as ContextKey | undefined;
  const global = opts.global || contextKey === undefined;
  if (!global) {
    // The context named by --context (created when missing), else the current one.
    const name = session.explicitContext ?? session.store.data.currentContext ?? DEFAULT_CONTEXT;
    updateContext(session, name, { [CONTEXT_KEYS[contextKey!]]: value ?? "" }, false);
    return;
  }
  if (!(GLOBAL_KEYS as readonly string[]).includes(key)) {
    throw usageError(
      `${key} belongs to a context and cannot be set globally`,
      `drop --global, or name the context: htc --context <name> config set ${key} …`,
    );
  }
  switch (key as GlobalKey) {
    case "selected_context":
      if (value === undefined) {
        delete session.store.data.currentContext;
        break;
      }
      useContext(session, value, true);
      return;
    case "output_format":
      if (value !== undefined && !(OUTPUT_FORMATS as readonly string[]).includes(value.toLowerCase())) {
        throw usageError(`output_format must be one of ${OUTPUT_FORMATS.join(", ")}`);
      }
      session.store.setGlobal("outputFormat", value?.toLowerCase() as OutputFormat | undefined);
      break;
    case "api_url":
      session.store.setGlobal("url", value === undefined || value === "" ? undefined : checkedUrl(value));
      break;
  }
  session.store.save();
  const global_ = session.store.data.global ?? {};
  const result = { configFile: session.store.path, currentContext: session.store.data.currentContext ?? null, global: global_ };
  session.out.result(result, () => {
    session.out.line(`${value === undefined ? "Unset" : "Set"} ${key} in the global settings of ${session.store.path}`);
    session.out.details([
      ["API URL", global_.url],
      ["Output format", global_.outputFormat],
      ["Current context", session.store.data.currentContext],
    ]);
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
