// Configuration and client creation. Contexts (a base URL, an API key, default project and task ids) live in
// `$XDG_CONFIG_HOME/htcemu/config.json` (mode 0600); bearer tokens are cached per context next to it, so
// consecutive commands do not exchange the key each time. Precedence of each setting, highest first:
//
//   1. flags --url / --key (and --project-id / --task-id);
//   2. a context chosen explicitly with --context or HTC_CONTEXT;
//   3. the environment (HTC_BASE_URL, RESCALE_API_KEY, … as resolved by @htcemu/client/node; HTC_PROJECT_ID…);
//   4. the current context of the config file, then its global settings (`htc config set api_url … --global`);
//   5. the Rescale profile file ~/.config/rescale/apiconfig (HTC_PROFILE selects its section);
//   6. the production URL https://htc.rescale.com/api/v1.
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import {
  type AuthProvider,
  type AuthRequest,
  type CachedToken,
  CLIENT_VERSION,
  createHtcClient,
  type Environment,
  type HtcClient,
  isKeyAuthPath,
  type Profiles,
  type ResolvedHtcConfig,
  resolveHtcConfig,
  TokenManager,
} from "@htcemu/client";
import { defaultProfileFile, readProfiles } from "@htcemu/client/node";
import type { Command } from "commander";
import { usageError } from "./errors.js";
import { createOutput, OUTPUT_FORMATS, type Output, type OutputFormat } from "./output.js";

export const CLI_VERSION = "0.1.0";
export const USER_AGENT = `htcemu-cli/${CLI_VERSION} htcemu-client/${CLIENT_VERSION}`;
export const DEFAULT_CONTEXT = "default";
const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The options every command accepts (declared on the program). */
export interface GlobalOptions {
  /** `-o/--output`; `--json` stores "json" here too. */
  output?: OutputFormat;
  context?: string;
  url?: string;
  key?: string;
  config?: string;
  projectId?: string;
  taskId?: string;
}

/** One named target. */
export interface ContextConfig {
  url?: string;
  apiKey?: string;
  projectId?: string;
  taskId?: string;
}

/** Settings of the config file outside any context (the official CLI's global section). */
export interface GlobalConfig {
  /** The API URL of contexts that have none. */
  url?: string;
  /** The default of `-o/--output`. */
  outputFormat?: OutputFormat;
}

export interface ConfigData {
  version: 1;
  currentContext?: string;
  global?: GlobalConfig;
  contexts: Record<string, ContextConfig>;
}

/** Where the config file is: --config, then HTC_CONFIG, then $XDG_CONFIG_HOME/htcemu/config.json. */
export function configFilePath(flag: string | undefined, env: Environment): string {
  if (flag) return flag;
  if (env["HTC_CONFIG"]) return env["HTC_CONFIG"];
  const base = env["XDG_CONFIG_HOME"] || join(env["HOME"] || homedir(), ".config");
  return join(base, "htcemu", "config.json");
}

export function checkContextName(name: string): string {
  if (!CONTEXT_NAME.test(name)) {
    throw usageError(`invalid context name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-' (at most 64)`);
  }
  return name;
}

/** Writes a file readable by its owner only, atomically (temporary file + rename). */
function writePrivateFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The config file: contexts and the current one. Loaded lazily, saved with mode 0600. */
export class ConfigStore {
  private loaded: ConfigData | undefined;

  constructor(readonly path: string) {}

  get exists(): boolean {
    try {
      readFileSync(this.path);
      return true;
    } catch {
      return false;
    }
  }

  get data(): ConfigData {
    this.loaded ??= this.read();
    return this.loaded;
  }

  private read(): ConfigData {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, contexts: {} };
      throw usageError(`cannot read the config file ${this.path}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw usageError(`the config file ${this.path} is not valid JSON: ${(error as Error).message}`);
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
      throw usageError(`the config file ${this.path} is not a JSON object`);
    const raw = parsed as Partial<ConfigData>;
    const contexts: Record<string, ContextConfig> = {};
    for (const [name, value] of Object.entries(raw.contexts ?? {})) {
      if (value && typeof value === "object") contexts[name] = pickContext(value as Record<string, unknown>);
    }
    const global = pickGlobal(raw.global);
    return {
      version: 1,
      ...(typeof raw.currentContext === "string" ? { currentContext: raw.currentContext } : {}),
      ...(Object.keys(global).length > 0 ? { global } : {}),
      contexts,
    };
  }

  save(): void {
    writePrivateFile(this.path, `${JSON.stringify(this.data, null, 2)}\n`);
  }

  context(name: string): ContextConfig | undefined {
    return this.data.contexts[name];
  }

  /** Creates or updates a context: `undefined` leaves a field alone, an empty string removes it. */
  upsert(name: string, changes: Partial<Record<keyof ContextConfig, string | undefined>>): ContextConfig {
    checkContextName(name);
    const current: ContextConfig = { ...this.data.contexts[name] };
    for (const [key, value] of Object.entries(changes) as [keyof ContextConfig, string | undefined][]) {
      if (value === undefined) continue;
      if (value === "") delete current[key];
      else current[key] = value;
    }
    this.data.contexts[name] = current;
    return current;
  }

  /** Sets (or with undefined removes) a global setting. */
  setGlobal<K extends keyof GlobalConfig>(key: K, value: GlobalConfig[K] | undefined): void {
    const global: GlobalConfig = { ...this.data.global };
    if (value === undefined) delete global[key];
    else global[key] = value;
    if (Object.keys(global).length > 0) this.data.global = global;
    else delete this.data.global;
  }

  remove(name: string): boolean {
    if (!this.data.contexts[name]) return false;
    delete this.data.contexts[name];
    if (this.data.currentContext === name) delete this.data.currentContext;
    return true;
  }

  /** The bearer-token cache of a context, next to the config file. */
  tokenFile(context: string): string {
    return join(dirname(this.path), "tokens", `${context}.json`);
  }
}

function pickGlobal(raw: unknown): GlobalConfig {
  const out: GlobalConfig = {};
  if (!raw || typeof raw !== "object") return out;
  const { url, outputFormat } = raw as Record<string, unknown>;
  if (typeof url === "string" && url) out.url = url;
  if ((OUTPUT_FORMATS as readonly unknown[]).includes(outputFormat)) out.outputFormat = outputFormat as OutputFormat;
  return out;
}

function pickContext(raw: Record<string, unknown>): ContextConfig {
  const out: ContextConfig = {};
  for (const key of ["url", "apiKey", "projectId", "taskId"] as const) {
    if (typeof raw[key] === "string" && raw[key]) out[key] = raw[key] as string;
  }
  return out;
}

/** What the token cache remembers: the token, and for which URL and credential it was issued. */
interface TokenCacheEntry {
  baseUrl: string;
  /** sha256 of base URL, credential kind and value: a cache never serves another key or another API. */
  fingerprint: string;
  tokenValue: string;
  expiresAt: number;
  refreshAt: number;
  savedAt: string;
}

export class TokenCache {
  constructor(
    readonly path: string,
    private readonly fingerprint: string,
    private readonly baseUrl: string,
  ) {}

  static fingerprintOf(baseUrl: string, kind: string, value: string): string {
    return createHash("sha256").update(`${baseUrl}\n${kind}\n${value}`).digest("hex");
  }

  load(now = Date.now()): CachedToken | undefined {
    let entry: TokenCacheEntry;
    try {
      entry = JSON.parse(readFileSync(this.path, "utf8")) as TokenCacheEntry;
    } catch {
      return undefined;
    }
    if (entry.fingerprint !== this.fingerprint || typeof entry.tokenValue !== "string") return undefined;
    if (typeof entry.refreshAt !== "number" || typeof entry.expiresAt !== "number" || now >= entry.refreshAt) return undefined;
    return { tokenValue: entry.tokenValue, expiresAt: entry.expiresAt, refreshAt: entry.refreshAt };
  }

  save(token: CachedToken): void {
    const entry: TokenCacheEntry = {
      baseUrl: this.baseUrl,
      fingerprint: this.fingerprint,
      tokenValue: token.tokenValue,
      expiresAt: token.expiresAt,
      refreshAt: token.refreshAt,
      savedAt: new Date().toISOString(),
    };
    try {
      writePrivateFile(this.path, `${JSON.stringify(entry, null, 2)}\n`);
    } catch {
      // A cache that cannot be written only costs an exchange next time.
    }
  }

  clear(): void {
    rmSync(this.path, { force: true });
  }
}

/**
 * Authorises requests with a cached bearer token while it is fresh, and otherwise with the client's
 * TokenManager (API key or refresh token → bearer token), writing every new token to the cache.
 */
export class CachingAuth implements AuthProvider {
  private cached: CachedToken | undefined;

  constructor(
    private readonly manager: TokenManager,
    private readonly cache: TokenCache | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.cached = cache?.load(now());
  }

  /** Whether the last token came from the cache file. */
  get cachedToken(): CachedToken | undefined {
    return this.cached;
  }

  async authorize(request: AuthRequest): Promise<string> {
    if (isKeyAuthPath(request.path)) return this.manager.authorize(request);
    const cached = this.cached;
    if (cached && this.now() < cached.refreshAt) return `Bearer ${cached.tokenValue}`;
    return `Bearer ${await this.token(request.signal)}`;
  }

  unauthorized(request: AuthRequest & { authorization: string }): boolean {
    if (isKeyAuthPath(request.path) || !request.authorization.startsWith("Bearer ")) return false;
    const rejected = request.authorization.slice("Bearer ".length);
    if (this.cached?.tokenValue === rejected) {
      this.cached = undefined;
      this.cache?.clear();
    }
    return this.manager.unauthorized(request);
  }

  /** Exchanges the credential now (whatever the cache holds) and caches the result. */
  async exchange(): Promise<CachedToken> {
    const token = await this.manager.refresh();
    this.remember(token);
    return token;
  }

  private async token(signal?: AbortSignal): Promise<string> {
    const value = await this.manager.getToken(signal ? { signal } : {});
    const fresh = this.manager.token;
    if (fresh && fresh.tokenValue === value && fresh !== this.cached) this.remember(fresh);
    return value;
  }

  private remember(token: CachedToken): void {
    this.cached = token;
    this.cache?.save(token);
  }
}

/** Where the effective URL and credential came from, for `config get` and `auth whoami`. */
export interface TargetSources {
  baseUrl: string;
  credential: string;
}

export interface Target {
  baseUrl: string;
  credential: ResolvedHtcConfig["credential"];
  sources: TargetSources;
}

/** Everything a command needs: options, output, config, the target API and a client for it. */
export class Session {
  readonly out: Output;
  readonly store: ConfigStore;
  readonly controller = new AbortController();
  private target_: Target | undefined;
  private client_: HtcClient | undefined;
  private auth_: CachingAuth | undefined;

  constructor(
    readonly globals: GlobalOptions,
    readonly env: Environment = process.env,
    out?: Output,
    /** Share another session's (possibly unsaved) config. */
    store?: ConfigStore,
  ) {
    this.store = store ?? new ConfigStore(configFilePath(globals.config, env));
    this.out = out ?? createOutput({ format: outputFormatOf(globals, this.store) });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The context chosen with --context or HTC_CONTEXT, if any. */
  get explicitContext(): string | undefined {
    return nonEmpty(this.globals.context) ?? nonEmpty(this.env["HTC_CONTEXT"]);
  }

  /** The context this command reads defaults from and caches tokens for. */
  get contextName(): string {
    const explicit = this.explicitContext;
    if (explicit !== undefined) {
      if (!this.store.context(explicit)) {
        throw usageError(`no context named ${JSON.stringify(explicit)} in ${this.store.path}`, "list them with `htc config list`");
      }
      return explicit;
    }
    return this.store.data.currentContext ?? DEFAULT_CONTEXT;
  }

  get context(): ContextConfig {
    return this.store.context(this.contextName) ?? {};
  }

  /** The API base URL and credential, resolved by precedence (see the top of this file). */
  target(): Target {
    this.target_ ??= this.resolve(true);
    return this.target_;
  }

  /** The base URL alone (no credential needed, e.g. before `auth login`). */
  baseUrl(): string {
    return this.target_?.baseUrl ?? this.resolve(false).baseUrl;
  }

  /** The base URL's source, without requiring a credential. */
  baseUrlSource(): string {
    return this.resolve(false).sources.baseUrl;
  }

  private resolve(requireCredential: boolean): Target {
    const name = this.contextName;
    const ctx = this.context;
    const explicit = this.explicitContext !== undefined;
    const globalUrl = this.store.data.global?.url;
    const options = {
      baseUrl: nonEmpty(this.globals.url) ?? (explicit ? (ctx.url ?? globalUrl) : undefined),
      apiKey: nonEmpty(this.globals.key) ?? (explicit ? ctx.apiKey : undefined),
    };
    // The current context sits between the environment and the Rescale profile file: it takes the place of the
    // profile file's section where it has a value.
    const profileName = nonEmpty(this.env["HTC_PROFILE"]) ?? "default";
    const fileProfiles: Profiles = readProfiles(defaultProfileFile(this.env)) ?? {};
    const fileSection = lowerKeys(fileProfiles[profileName]);
    const section: Record<string, unknown> = {
      apibaseurl: ctx.url ?? globalUrl ?? fileSection["apibaseurl"],
      apikey: ctx.apiKey ?? fileSection["apikey"],
    };
    const profiles: Profiles = { ...fileProfiles, [profileName]: section };
    const resolved = resolveHtcConfig({
      options: requireCredential ? options : { ...options, bearerToken: "unused" },
      env: { ...this.env, HTC_PROFILE: profileName },
      profiles,
    });
    const profileFile = `${defaultProfileFile(this.env)} [${profileName}]`;
    // Where a value of the config file came from: the context, the file's global settings, or the profile file.
    const label = (source: string, flag: "--url" | "--key", fromContext: boolean, fromGlobal: boolean): string => {
      const flagged = nonEmpty(flag === "--url" ? this.globals.url : this.globals.key);
      const stored = fromContext
        ? `context ${name}`
        : fromGlobal
          ? `global ${flag === "--url" ? "api_url" : "api_key"} of the config file`
          : profileFile;
      if (source === "options") return flagged ? `flag ${flag}` : stored;
      if (source.startsWith("profile:")) return stored;
      return source;
    };
    return {
      baseUrl: resolved.baseUrl,
      credential: resolved.credential,
      sources: {
        baseUrl: label(resolved.sources.baseUrl, "--url", Boolean(ctx.url), Boolean(globalUrl)),
        credential: requireCredential ? label(resolved.sources.credential, "--key", Boolean(ctx.apiKey), false) : "",
      },
    };
  }

  /** The token cache of this context for the current target. */
  tokenCache(): TokenCache | undefined {
    const { baseUrl, credential } = this.target();
    if (credential.kind === "bearerToken") return undefined;
    return new TokenCache(
      this.store.tokenFile(this.contextName),
      TokenCache.fingerprintOf(baseUrl, credential.kind, credential.value),
      baseUrl,
    );
  }

  /** A client for the target, authenticating through the token cache. */
  client(): HtcClient {
    if (this.client_) return this.client_;
    const { baseUrl, credential } = this.target();
    const headers: Record<string, string> = {};
    const environment = nonEmpty(this.env["X_RESCALE_ENVIRONMENT"]);
    if (environment) headers["X-Rescale-Environment"] = environment;
    const common = { baseUrl, userAgent: USER_AGENT, headers, timeoutMs: this.requestTimeoutMs() };
    if (credential.kind === "bearerToken") {
      this.client_ = createHtcClient({ ...common, bearerToken: credential.value });
      return this.client_;
    }
    // The key exchange goes through a client without auth (it retries and times out like any request).
    const plain = createHtcClient(common);
    const manager = new TokenManager({
      baseUrl,
      credential: credential.kind === "apiKey" ? { apiKey: credential.value } : { refreshToken: credential.value },
      fetch: plain.fetch,
      headers: { "User-Agent": USER_AGENT, ...headers },
    });
    this.auth_ = new CachingAuth(manager, this.tokenCache());
    this.client_ = createHtcClient({ ...common, auth: this.auth_ });
    return this.client_;
  }

  /** The time budget of each request (HTC_REQUEST_TIMEOUT seconds, default 120), for every client of the session. */
  requestTimeoutMs(): number {
    const seconds = Number(this.env["HTC_REQUEST_TIMEOUT"] ?? 120);
    return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 120_000;
  }

  /** The caching auth provider (undefined with a ready bearer token). */
  get auth(): CachingAuth | undefined {
    this.client();
    return this.auth_;
  }

  /** The project id: --project-id, HTC_PROJECT_ID, the context's default. */
  projectId(explicit?: string): string {
    const id = nonEmpty(explicit) ?? nonEmpty(this.globals.projectId) ?? nonEmpty(this.env["HTC_PROJECT_ID"]) ?? this.context.projectId;
    if (!id) {
      throw usageError(
        "no project id",
        `pass --project-id, set HTC_PROJECT_ID, or store one with \`htc config set ${this.contextName} --project-id …\` (or \`htc project create … --use\`)`,
      );
    }
    return id;
  }

  /** The task id: --task-id, HTC_TASK_ID, the context's default. */
  taskId(explicit?: string): string {
    const id = nonEmpty(explicit) ?? nonEmpty(this.globals.taskId) ?? nonEmpty(this.env["HTC_TASK_ID"]) ?? this.context.taskId;
    if (!id) {
      throw usageError(
        "no task id",
        `pass --task-id, set HTC_TASK_ID, or store one with \`htc config set ${this.contextName} --task-id …\` (or \`htc task create … --use\`)`,
      );
    }
    return id;
  }

  /** Both ids, for task-level operations. */
  ids(taskId?: string): { projectId: string; taskId: string } {
    return { projectId: this.projectId(), taskId: this.taskId(taskId) };
  }

  /** Stores defaults in the effective context (creating it when needed) and saves the config file. */
  remember(changes: Partial<Record<keyof ContextConfig, string>>): string {
    const name = this.contextName;
    this.store.upsert(name, changes);
    this.store.data.currentContext ??= name;
    this.store.save();
    return name;
  }
}

/**
 * The output format: `-o/--output` (or `--json`), else the config file's `output_format`, else text. A config file
 * that cannot be read does not stop here: the command reports it when it reads the file itself.
 */
export function outputFormatOf(globals: GlobalOptions, store: ConfigStore): OutputFormat {
  if (globals.output) return globals.output;
  try {
    return store.data.global?.outputFormat ?? "text";
  } catch {
    return "text";
  }
}

/** The session of a command: its options merged with the program's. */
export function sessionOf(command: Command): Session {
  const existing = sessions.get(command);
  if (existing) return existing;
  const session = new Session(command.optsWithGlobals() as GlobalOptions);
  sessions.set(command, session);
  activeSessions.add(session);
  return session;
}

const sessions = new WeakMap<Command, Session>();
/** Sessions of running commands, aborted on Ctrl-C. */
export const activeSessions = new Set<Session>();

/**
 * Set while a command forwards signals to a child process (`emulator exec`): Ctrl-C is then the child's to
 * handle, so the program neither aborts the sessions nor exits on a second Ctrl-C.
 */
export const signalForwarding = { active: false };

export function nonEmpty(value: string | undefined): string | undefined {
  const t = value?.trim();
  return t ? t : undefined;
}

function lowerKeys(section: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section ?? {})) out[k.toLowerCase()] = v;
  return out;
}
