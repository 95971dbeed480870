// Runs one OCI registry (distribution 2.8) through a runner (runner.ts: Debian's binary as a child process, or a
// container): writes its configuration (loopback only, filesystem storage, token authentication with the emulator
// as the realm, notifications to the emulator, deletes enabled), starts it, waits until `/v2/` answers on
// 127.0.0.1, restarts it with a growing delay when it dies, and stops it with the emulator.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { RegistryInstance, RegistryRunner } from "./runner.js";

export interface RegistryConfig {
  /** How the registry runs: a child process or a container. */
  runner: RegistryRunner;
  /** Holds config.yml, the token certificate and the storage folder. */
  dir: string;
  /** Port on 127.0.0.1; 0 (or taken) picks a free one. */
  port: number;
  /** Where Docker gets tokens (the emulator's realm endpoint, on loopback; the runner says how it is reached). */
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
/** Restart delays grow from the first to the last, and start over once the registry stayed up for a minute. */
const BACKOFF_MS = [250, 500, 1000, 2000, 5000, 10_000, 30_000];
const STABLE_MS = 60_000;
const ANSWERED_WITH_ERROR = 'msg="response completed with error"';

export class RegistrySupervisor {
  private instance: RegistryInstance | undefined;
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

  /** The registry's process id (when it runs as a child process). */
  get pid(): number | undefined {
    return this.instance?.pid;
  }

  /** The registry's container id (when it runs as a container). */
  get containerId(): string | undefined {
    return this.instance?.containerId;
  }

  get runner(): RegistryRunner {
    return this.config.runner;
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
    await this.config.runner.prepare(this.config.dir);
    mkdirSync(join(this.config.dir, "storage"), { recursive: true });
    writeFileSync(join(this.config.dir, "token-issuer.pem"), this.config.certificatePem);
    // A port given (or remembered) is tried first; if it is taken, a free one is used instead.
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      this.portValue = attempt === 0 && this.config.port && (await portIsFree(this.config.port)) ? this.config.port : await freePort();
      this.writeConfig();
      this.readyPromise = this.launchAndWait();
      try {
        await this.readyPromise;
        return;
      } catch (error) {
        lastError = error as Error;
        this.kill();
      }
    }
    throw lastError!;
  }

  /** Stops the registry (gracefully, forced after 5 s). Safe to call twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    // Whoever waits for a restart that will not happen any more learns so now.
    this.abandonRestart?.(new Error("the registry was stopped"));
    await this.instance?.stop();
  }

  private writeConfig(): void {
    const { dir: hostDir, runner, realm, service, issuer, notifications } = this.config;
    const dir = runner.dirInside(hostDir);
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
      `  addr: ${quote(runner.listenAddress(this.portValue))}`,
      `  secret: ${quote(this.httpSecret())}`,
      "  headers:",
      "    X-Content-Type-Options: [nosniff]",
      "auth:",
      "  token:",
      `    realm: ${quote(runner.emulatorUrl(realm))}`,
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
        `      url: ${quote(runner.emulatorUrl(notifications.url))}`,
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
    writeFileSync(join(hostDir, "config.yml"), `${lines.join("\n")}\n`);
  }

  private secret: string | undefined;
  private httpSecret(): string {
    this.secret ??= crypto.randomUUID();
    return this.secret;
  }

  private async launchAndWait(): Promise<void> {
    const { runner, dir, log } = this.config;
    const keep = (text: string) => {
      this.output = (this.output + text).slice(-OUTPUT_LIMIT);
      // Requests that failed (unknown tags, missing tokens) are answers, not faults of the registry.
      for (const line of text.split("\n")) if (line.trim() && !line.includes(ANSWERED_WITH_ERROR)) log(`registry: ${line.trim()}`);
    };
    this.phase = "starting";
    const instance = await runner.launch(dir, this.portValue, keep);
    if (this.stopping) {
      // stop() came while this one was being launched: it saw nothing to stop.
      await instance.stop();
      throw new Error("the registry was stopped");
    }
    this.instance = instance;
    this.starts++;
    this.startedAt = Date.now();
    void instance.exited.then((why) => {
      if (this.instance !== instance) return;
      this.instance = undefined;
      // While starting, the wait below reports the exit; once running, a death is restarted.
      if (this.stopping || this.phase !== "running") return;
      this.scheduleRestart(`exited with ${why}`);
    });
    const deadline = Date.now() + (this.config.startTimeoutMs ?? 15_000);
    for (;;) {
      if (instance.ended !== undefined) {
        throw new Error(`the registry (${runner.description}) stopped at start (${instance.ended}):\n${this.output.trim()}`);
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
      this.launchAndWait().then(
        () => {
          this.config.log(`registry restarted on ${this.host}`);
          release();
        },
        (error: Error) => {
          fail(error);
          this.kill();
          // The exit handler leaves a registry that never became ready alone: try again from here.
          if (!this.stopping) this.scheduleRestart(`failed to restart (${error.message.split("\n")[0]})`);
        },
      );
    }, delay);
    this.restartTimer.unref();
  }

  private kill(): void {
    this.instance?.kill();
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
