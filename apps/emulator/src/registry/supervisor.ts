// Runs the OCI registry (Debian's docker-registry, i.e. distribution 2.8) as a child process: writes its
// configuration (loopback only, filesystem storage, token authentication with the emulator as the realm,
// notifications to the emulator, deletes enabled), starts it, waits until `/v2/` answers, restarts it with a
// growing delay when it dies, and stops it with the emulator.
//
// The child is started through `setpriv --pdeathsig SIGTERM` where util-linux has it, so that a registry never
// outlives an emulator that was killed without a chance to stop it.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export interface RegistryConfig {
  /** The docker-registry binary. */
  bin: string;
  /** Holds config.yml, the token certificate and the storage folder. */
  dir: string;
  /** Port on 127.0.0.1; 0 (or taken) picks a free one. */
  port: number;
  /** Where Docker gets tokens (the emulator's realm endpoint). */
  realm: string;
  service: string;
  issuer: string;
  /** PEM of the certificate that signs tokens. */
  certificatePem: string;
  /** Where the registry posts its events, and the header value that proves it is the registry. */
  notifications?: { url: string; authorization: string };
  log: (line: string) => void;
  /** How long to wait for `/v2/` after a start (ms). */
  startTimeoutMs?: number;
}

const OUTPUT_LIMIT = 32 * 1024;
const SETPRIV = "/usr/bin/setpriv";
/** Restart delays grow from the first to the last, and start over once the registry stayed up for a minute. */
const BACKOFF_MS = [250, 500, 1000, 2000, 5000, 10_000, 30_000];
const STABLE_MS = 60_000;
const ANSWERED_WITH_ERROR = 'msg="response completed with error"';

export class RegistryBinaryMissingError extends Error {
  override readonly name = "RegistryBinaryMissingError";
}

export class RegistrySupervisor {
  private child: ChildProcess | undefined;
  private output = "";
  private stopping = false;
  private restarts = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private abandonRestart: ((error: Error) => void) | undefined;
  private phase: "starting" | "running" | "restarting" = "starting";
  private readyPromise: Promise<void> = Promise.resolve();
  private portValue = 0;
  /** Times the registry was (re)started, for tests and diagnostics. */
  starts = 0;

  constructor(private readonly config: RegistryConfig) {}

  get port(): number {
    return this.portValue;
  }

  /** `127.0.0.1:<port>`: the registry's address for Docker (and the host part of image references). */
  get host(): string {
    return `127.0.0.1:${this.portValue}`;
  }

  get url(): string {
    return `http://${this.host}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves when the registry answers (again, after a restart); rejects if it cannot be started. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** What the registry printed last (its errors), for messages. */
  recentOutput(): string {
    return this.output;
  }

  /** Writes the configuration and starts the registry; resolves once `/v2/` answers. */
  async start(): Promise<void> {
    if (!existsSync(this.config.bin)) {
      throw new RegistryBinaryMissingError(
        `the registry binary ${this.config.bin} does not exist: install Debian's docker-registry package ` +
          "(apt-get install docker-registry), point --registry-bin at a distribution 2.x `registry` binary, or run with --registry off",
      );
    }
    mkdirSync(join(this.config.dir, "storage"), { recursive: true });
    writeFileSync(join(this.config.dir, "token-issuer.pem"), this.config.certificatePem);
    // A port given (or remembered) is tried first; if it is taken, a free one is used instead.
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      this.portValue = attempt === 0 && this.config.port && (await portIsFree(this.config.port)) ? this.config.port : await freePort();
      this.writeConfig();
      this.readyPromise = this.spawnAndWait();
      try {
        await this.readyPromise;
        return;
      } catch (error) {
        lastError = error as Error;
        this.kill("SIGKILL");
      }
    }
    throw lastError!;
  }

  /** Stops the registry (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    // Whoever waits for a restart that will not happen any more learns so now.
    this.abandonRestart?.(new Error("the registry was stopped"));
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }

  private writeConfig(): void {
    const { dir, realm, service, issuer, notifications } = this.config;
    const quote = (value: string) => JSON.stringify(value);
    const lines = [
      "version: 0.1",
      "log:",
      "  level: error",
      "  formatter: text",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${quote(join(dir, "storage"))}`,
      "  delete:",
      "    enabled: true",
      "  cache:",
      "    blobdescriptor: inmemory",
      "http:",
      `  addr: ${quote(this.host)}`,
      `  secret: ${quote(this.httpSecret())}`,
      "  headers:",
      "    X-Content-Type-Options: [nosniff]",
      "auth:",
      "  token:",
      `    realm: ${quote(realm)}`,
      `    service: ${quote(service)}`,
      `    issuer: ${quote(issuer)}`,
      `    rootcertbundle: ${quote(join(dir, "token-issuer.pem"))}`,
      "health:",
      "  storagedriver:",
      "    enabled: false",
    ];
    if (notifications) {
      lines.push(
        "notifications:",
        "  events:",
        "    includereferences: true",
        "  endpoints:",
        "    - name: htc-emulator",
        `      url: ${quote(notifications.url)}`,
        "      headers:",
        `        Authorization: [${quote(notifications.authorization)}]`,
        "      timeout: 2s",
        "      threshold: 3",
        "      backoff: 500ms",
        "      ignore:",
        "        mediatypes: [application/octet-stream]",
        "        actions: [pull]",
      );
    }
    writeFileSync(join(dir, "config.yml"), `${lines.join("\n")}\n`);
  }

  private secret: string | undefined;
  private httpSecret(): string {
    this.secret ??= crypto.randomUUID();
    return this.secret;
  }

  private spawnAndWait(): Promise<void> {
    const { bin, dir, log } = this.config;
    const args = ["serve", join(dir, "config.yml")];
    // Variables named REGISTRY_* override the configuration file: keep the environment's out of it.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("REGISTRY_")));
    const [command, argv] = existsSync(SETPRIV) ? [SETPRIV, ["--pdeathsig", "SIGTERM", "--", bin, ...args]] : [bin, args];
    const child = spawn(command, argv, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.starts++;
    this.startedAt = Date.now();
    const keep = (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      this.output = (this.output + text).slice(-OUTPUT_LIMIT);
      // Requests that failed (unknown tags, missing tokens) are answers, not faults of the registry.
      for (const line of text.split("\n")) if (line.trim() && !line.includes(ANSWERED_WITH_ERROR)) log(`registry: ${line.trim()}`);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    let spawnError: Error | undefined;
    child.once("error", (error) => {
      spawnError = error;
    });
    child.once("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      // While starting, the wait below reports the exit; once running, a death is restarted.
      if (this.stopping || this.phase !== "running") return;
      this.scheduleRestart(`exited with ${signal ?? `code ${code}`}`);
    });
    this.phase = "starting";
    return (async () => {
      const deadline = Date.now() + (this.config.startTimeoutMs ?? 15_000);
      for (;;) {
        if (spawnError) throw new Error(`the registry ${bin} could not be started: ${spawnError.message}`);
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`the registry exited at start (${child.signalCode ?? `code ${child.exitCode}`}):\n${this.output.trim()}`);
        }
        try {
          const response = await fetch(`${this.url}/v2/`, { signal: AbortSignal.timeout(1000) });
          // Token authentication: an anonymous `/v2/` answers 401, which means it is up.
          if (response.status === 401 || response.ok) {
            await response.body?.cancel();
            this.phase = "running";
            return;
          }
          await response.body?.cancel();
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline)
          throw new Error(`the registry did not answer on ${this.url} within the start-up time:\n${this.output.trim()}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
  }

  private scheduleRestart(why: string): void {
    if (Date.now() - this.startedAt > STABLE_MS) this.restarts = 0;
    const delay = BACKOFF_MS[Math.min(this.restarts, BACKOFF_MS.length - 1)]!;
    this.restarts++;
    this.phase = "restarting";
    this.config.log(`registry ${why}; restarting in ${delay} ms`);
    let release!: () => void;
    let fail!: (error: Error) => void;
    // Callers that need the registry wait for the restart rather than fail at once.
    this.readyPromise = new Promise<void>((resolve, reject) => {
      release = resolve;
      fail = reject;
    });
    this.readyPromise.catch(() => {});
    this.abandonRestart = fail;
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return release();
      this.spawnAndWait().then(
        () => {
          this.config.log(`registry restarted on ${this.host}`);
          release();
        },
        (error: Error) => {
          fail(error);
          this.kill("SIGKILL");
          // The exit handler leaves a registry that never became ready alone: try again from here.
          if (!this.stopping) this.scheduleRestart(`failed to restart (${error.message.split("\n")[0]})`);
        },
      );
    }, delay);
    this.restartTimer.unref();
  }

  private kill(signal: NodeJS.Signals): void {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
