// startEmulator(): the one place an emulator is assembled and torn down. The command line and the test helpers
// both call it. Parts are built in dependency order, each complete when built: the database and clock, storage,
// then the HTTP server's port (so every URL is known), the registry, the core, the fault injector, the job side,
// the fault service, and last the HTTP application, which the server starts answering with.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { getRequestListener } from "@hono/node-server";
import { createHtcClient, type HtcClient } from "@htcemu/client";
import { addressesOf, apiUrlForJobs } from "./addresses.js";
import { createApp } from "./app.js";
import { loadOrCreateSigningKey } from "./auth/keys.js";
import { TokenService } from "./auth/tokens.js";
import { VirtualClock } from "./clock.js";
import type { Core } from "./core.js";
import { clockStoreIn } from "./db/clock-store.js";
import { type Db, openDatabase } from "./db/database.js";
import { MetaRepository } from "./db/repositories/meta.js";
import { createRepositories } from "./db/repositories/index.js";
import { Counters } from "./domain/counters.js";
import { newUuid } from "./domain/ids.js";
import { applySeed, IdentityService } from "./domain/identity.js";
import { enforceRetention } from "./domain/tasks.js";
import { FaultInjector } from "./faults/injector.js";
import { FaultService } from "./faults/service.js";
import type { Emulator } from "./http/env.js";
import { adminTokenFor } from "./http/admin-token.js";
import { Readiness } from "./http/readiness.js";
import { dashboardBuildDir, UI_PREFIX } from "./http/ui.js";
import { Inspector } from "./inspector/inspector.js";
import { engineProbe } from "./jobs/engine-probe.js";
import { chooseExecutor } from "./jobs/executors.js";
import { JobService } from "./jobs/service.js";
import { type EmulatorOptions, optionEnvironment, resolveOptions, truthy } from "./options.js";
import { executorOffPart, type OffPart } from "./parts.js";
import { registryImages } from "./registry/images.js";
import { RegistryService } from "./registry/service.js";
import { importAtStart } from "./snapshot/snapshot.js";
import { checkDataDir, listenError } from "./startup-errors.js";
import { StorageService } from "./storage/service.js";

export interface StartOptions extends EmulatorOptions {
  /** Leave running job containers alone on stop(), so that the next start re-attaches to them. */
  detachJobsOnStop?: boolean;
  /** Receives the emulator's log lines (start-up, request log, internal errors). Silent by default. */
  log?: (line: string) => void;
}

export interface RunningEmulator {
  /** `http://127.0.0.1:<port>/api/v1`: what a client's base URL should be. */
  baseUrl: string;
  /** `http://127.0.0.1:<port>`: the server's root (admin API, root aliases). */
  rootUrl: string;
  port: number;
  /** The API key of the default user. */
  apiKey: string;
  /** The default user's workspace id. */
  workspaceId: string;
  /** A client already configured for this emulator and key. */
  client: HtcClient;
  /** How jobs run: `docker` or `simulated`. */
  executor: string;
  /** `host:port` of the project registries (for `docker login` and pushes); undefined when they are off. */
  registryHost: string | undefined;
  /** The parts that are off (jobs simulated, registries off): why, and the command that turns each on. */
  off: readonly OffPart[];
  /**
   * The token the admin API and the dashboard require (`Authorization: Bearer <token>`); undefined when they are
   * open (on loopback, unless a token was given).
   */
  adminToken: string | undefined;
  /** The dashboard's address (with the admin token in its fragment when one is required). */
  dashboardUrl: string;
  /**
   * The emulator's parts (its core, the job service, the fault rules, the registry), for tests and diagnostics.
   * Not a stable API: they change as the emulator does.
   */
  internals: Emulator;
  /** Stops the server and releases the database. Safe to call twice. */
  stop(): Promise<void>;
}

type StopMode = "stop" | "detach";

export async function startEmulator(options: StartOptions = {}): Promise<RunningEmulator> {
  const { log = () => {}, detachJobsOnStop, ...rest } = options;
  // HTC_EMULATOR_STRICT=1 turns strict mode on for every emulator a test run embeds, without touching its code.
  const resolved = resolveOptions({ ...rest, strict: rest.strict ?? strictFromEnvironment() });
  const inMemory = resolved.inMemory || !resolved.dataDir;
  // What is started so far, released in reverse order by stop(), or at once when the start fails halfway. Each
  // step runs even when an earlier one failed: a stuck engine must not leave the port or the database open.
  const started: { name: string; release: (mode: StopMode) => unknown }[] = [];
  const release = async (mode: StopMode) => {
    const errors: unknown[] = [];
    for (const step of started.splice(0).reverse()) {
      try {
        await step.release(mode);
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  };

  try {
    // The engine is asked once, by whoever needs it first; the Docker executor will, so ask now, meanwhile.
    const engine = engineProbe();
    if (resolved.executor !== "simulated") engine.get().catch(() => {});
    // A folder it cannot write is reported as such (what to mount or set), before SQLite fails on it.
    if (!inMemory) checkDataDir(resolved.dataDir!);
    const db = openDatabase(inMemory ? { inMemory: true } : { dataDir: resolved.dataDir! });
    started.push({ name: "database", release: () => db.close() });
    const clock = new VirtualClock(clockStoreIn(db));
    // --import <file>: the snapshot's rows replace the database's before anything reads them.
    const imported = resolved.importSnapshot ? await importAtStart(db, clock, resolved.importSnapshot) : undefined;
    const key = await loadOrCreateSigningKey(db, clock.now());
    const repos = createRepositories(db);
    // Objects live in <dataDir>/storage, or in a temporary folder that stop() removes.
    const storage = await StorageService.open({ root: inMemory ? undefined : join(resolved.dataDir!, "storage"), db, clock, log });
    started.push({ name: "storage", release: () => storage.close() });
    await imported?.installFiles(storage);

    // The port first: the URLs that the core hands out (links, the registry's address, the API URL of jobs)
    // depend on it. Until the application is assembled, the server answers 503.
    // The readiness probe answers from now on (503 until the scheduler runs, 503 again once stop() begins).
    const readiness = new Readiness();
    let answer: (request: IncomingMessage, response: ServerResponse) => void = starting;
    const server = await listen(resolved.port, resolved.host, (request, response) => {
      if (!readiness.answer(request, response)) answer(request, response);
    });
    started.push({ name: "server", release: () => closeServer(server) });
    const { port } = server.address() as AddressInfo;
    const { rootUrl, baseUrl, loopbackOrigin } = addressesOf({ port, host: resolved.host, publicUrl: resolved.publicUrl });

    const registry = new RegistryService(repos.registry, clock, {
      mode: resolved.registry,
      bin: resolved.registryBin,
      image: resolved.registryImage,
      engine,
      port: resolved.registryPort,
      readyDelaySeconds: resolved.registryReadyDelaySeconds,
      dataDir: inMemory ? undefined : resolved.dataDir,
      log,
    });
    started.push({ name: "registry", release: () => registry.stop() });
    // The registry reaches the emulator (token realm, notifications) on loopback, whatever it advertises.
    await registry.start(loopbackOrigin);

    const identity = new IdentityService(repos.identity, clock);
    const bootstrap = db.transaction(() => {
      const created = identity.ensureDefaultUser(resolved.apiKey);
      if (created.created && resolved.workspaceVcpuLimit !== undefined) {
        repos.identity.setWorkspaceLimit(created.workspace.id, resolved.workspaceVcpuLimit, clock.now());
      }
      if (resolved.seed) applySeed(identity, repos.identity, resolved.seed);
      return created;
    })();
    const choice = await chooseExecutor(resolved, clock, instanceIdOf(db), log, engine);

    const core: Core = {
      options: resolved,
      db,
      clock,
      repos,
      counters: new Counters(),
      tokens: new TokenService(key, clock),
      identity,
      storage,
      // Images of the project's registry first, then the executor's own (the local engine's, or any name).
      images: registryImages(registry, choice.images, log),
      urls: {
        root: rootUrl,
        registryHost: registry.host ?? new URL(rootUrl).host,
        fixedOrigin: resolved.publicUrl ? new URL(resolved.publicUrl).origin : undefined,
      },
    };
    const injector = new FaultInjector(core, log);
    // Containers reach the API on the host's loopback, or under the name the engine gives the host.
    const jobs = new JobService(core, {
      makeExecutor: choice.make,
      apiUrlForJobs: apiUrlForJobs(rootUrl, choice.hostForContainers),
      faults: injector,
      log,
    });
    started.push({ name: "jobs", release: (mode) => jobs.close(mode) });
    const faults = new FaultService(injector, jobs.scheduler.controls, jobs.faultyExecutor, clock);
    started.push({ name: "faults", release: () => faults.close() });
    const inspector = new Inspector(resolved.inspectorSize, resolved.inspectorBodyLimit);
    const emulator: Emulator = { core, jobs, faults, registry, inspector };

    // Off loopback, the admin API and the dashboard require a token: the one given, or one made up now.
    const adminToken = adminTokenFor(resolved.host, resolved.adminToken);
    const app = createApp(emulator, log, { adminToken, dashboardDir: dashboardBuildDir(resolved.dashboardDir) });
    answer = getRequestListener(app.fetch, { hostname: resolved.host });
    await jobs.start();
    readiness.phase = "ready";

    // Retention policies are applied in the background; the admin API can also run a sweep on demand.
    const retentionTimer = setInterval(() => {
      try {
        enforceRetention(core, jobs);
      } catch (error) {
        log(`retention sweep failed: ${(error as Error).message}`);
      }
    }, 5000);
    retentionTimer.unref();
    started.push({ name: "retention", release: () => clearInterval(retentionTimer) });

    // Embedded emulators stop their containers; the command line detaches when a data dir keeps state for a restart.
    const stopMode: StopMode = detachJobsOnStop ? "detach" : "stop";
    let stopped: Promise<void> | undefined;
    return {
      baseUrl,
      rootUrl,
      port,
      apiKey: bootstrap.apiKey,
      workspaceId: bootstrap.workspace.id,
      client: createHtcClient({ baseUrl, apiKey: bootstrap.apiKey }),
      executor: jobs.executor.name,
      registryHost: registry.host,
      adminToken,
      dashboardUrl: `${rootUrl}${UI_PREFIX}${adminToken ? `#token=${encodeURIComponent(adminToken)}` : ""}`,
      off: offPartsOf(resolved.executor, jobs.executor.name, choice.simulatedBecause, registry),
      internals: emulator,
      stop: () => {
        readiness.phase = "stopping";
        stopped ??= release(stopMode);
        return stopped;
      },
    };
  } catch (error) {
    await release("stop").catch(() => {});
    throw error;
  }
}

function offPartsOf(requested: string, executor: string, simulatedBecause: string | undefined, registry: RegistryService): OffPart[] {
  const off: OffPart[] = [];
  const jobs = executorOffPart(executor, requested, simulatedBecause);
  if (jobs) off.push(jobs);
  const state = registry.state;
  if (!state.on) off.push({ part: "registry", state: "off", why: state.why, fix: state.fix });
  return off;
}

/** The server's answer while the emulator is still being assembled. */
function starting(_request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
  response.end(JSON.stringify({ error: "unavailable", errorDescription: "The emulator is starting." }));
}

function listen(port: number, host: string, listener: (request: IncomingMessage, response: ServerResponse) => void): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    // Idle connections are kept a minute (Node's default is 5 s): clients that reuse a pooled connection just as
    // the server drops it fail with "other side closed", which a busy machine made likely at 5 s.
    const server = createServer({ keepAliveTimeout: 65_000 }, listener);
    server.headersTimeout = 66_000;
    const failed = (error: Error) => reject(listenError(error, host, port));
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    // Idle keep-alive connections would otherwise hold the server open.
    server.closeAllConnections();
  });
}

function strictFromEnvironment(): boolean {
  return truthy(process.env[optionEnvironment.strict]);
}

/** A stable id of this emulator's state: labels its containers, so emulators sharing an engine stay apart. */
function instanceIdOf(db: Db): string {
  return new MetaRepository(db).instanceId(newUuid);
}
