// startEmulator(): the one place an emulator is assembled (database, keys, services, HTTP server) and torn down.
// The command line and the test helpers both call it.
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { createHtcClient, type HtcClient } from "@htcemu/client";
import { createApp, API_PREFIX } from "./app.js";
import { loadOrCreateSigningKey } from "./auth/keys.js";
import { VirtualClock } from "./clock.js";
import { openDatabase } from "./db/database.js";
import { MetaRepository } from "./db/repositories/meta.js";
import { applySeed } from "./domain/identity.js";
import { enforceRetention } from "./domain/tasks.js";
import { newUuid } from "./domain/ids.js";
import { chooseExecutor } from "./jobs/executors.js";
import { JobService } from "./jobs/service.js";
import { type EmulatorOptions, optionEnvironment, resolveOptions, truthy } from "./options.js";
import { registryImages } from "./registry/images.js";
import { RegistryService } from "./registry/service.js";
import { FaultService } from "./faults/service.js";
import { createServices, type Services } from "./services.js";
import { importAtStart } from "./snapshot/snapshot.js";
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
  /** Internals, for tests and the admin API. */
  services: Services;
  /** Stops the server and releases the database. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startEmulator(options: StartOptions = {}): Promise<RunningEmulator> {
  const { log = () => {}, detachJobsOnStop: _detach, ...rest } = options;
  // HTC_EMULATOR_STRICT=1 turns strict mode on for every emulator a test run embeds, without touching its code.
  const resolved = resolveOptions({ ...rest, strict: rest.strict ?? strictFromEnvironment() });
  const inMemory = resolved.inMemory || !resolved.dataDir;
  const db = openDatabase(inMemory ? { inMemory: true } : { dataDir: resolved.dataDir! });
  let storage: StorageService | undefined;
  try {
    const clock = VirtualClock.persistedIn(db);
    // --import <file>: the snapshot's rows replace the database's before anything reads them.
    const imported = resolved.importSnapshot ? await importAtStart(db, clock, resolved.importSnapshot) : undefined;
    const key = await loadOrCreateSigningKey(db, clock.now());
    const services = createServices(resolved, db, clock, key);
    // Objects live in <dataDir>/storage, or in a temporary folder that stop() removes.
    storage = await StorageService.open({ root: inMemory ? undefined : join(resolved.dataDir!, "storage"), db, clock, log });
    services.storage = storage;
    await imported?.installFiles(storage);
    services.faults = new FaultService(services, log);
    services.registry = new RegistryService(services.repos.registry, clock, {
      mode: resolved.registry,
      bin: resolved.registryBin,
      port: resolved.registryPort,
      readyDelaySeconds: resolved.registryReadyDelaySeconds,
      dataDir: inMemory ? undefined : resolved.dataDir,
      log,
    });
    const bootstrap = db.transaction(() => {
      const created = services.identity.ensureDefaultUser(resolved.apiKey);
      if (created.created && resolved.workspaceVcpuLimit !== undefined) {
        services.repos.identity.setWorkspaceLimit(created.workspace.id, resolved.workspaceVcpuLimit, clock.now());
      }
      if (resolved.seed) applySeed(services.identity, services.repos.identity, resolved.seed);
      return created;
    })();
    const choice = await chooseExecutor(resolved, clock, instanceIdOf(db), log);
    // Images of the project's registry first, then the executor's own (the local engine's, or any name).
    services.images = registryImages(() => services.registry, choice.images, log);
    const jobs = new JobService(services, {
      makeExecutor: choice.make,
      apiUrlForJobs: () => {
        const url = new URL(services.urls.root);
        if (url.hostname === "127.0.0.1" || url.hostname === "localhost") url.hostname = choice.hostForContainers;
        return `${url.origin}${API_PREFIX}`;
      },
      log,
    });
    services.jobs = jobs;
    services.executorName = () => jobs.executor.name;
    services.taskJobs = {
      unfinished: (task) => jobs.unfinished(task.seq),
      cancelAll: (task) => jobs.scheduler.cancel({ taskSeq: task.seq }, clock.now()),
      onDeleted: (task) => services.storage.deleteTaskStorage(task.project_id, task.id),
    };
    const app = createApp(services, log);

    const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: resolved.port, hostname: resolved.host }, () => resolve(s));
      s.once("error", reject);
    });
    const { port } = server.address() as AddressInfo;
    const host = resolved.host.includes(":") ? `[${resolved.host}]` : resolved.host;
    const rootUrl = resolved.publicUrl?.replace(/\/+$/, "") ?? `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;
    const baseUrl = `${rootUrl}${API_PREFIX}`;
    services.urls.root = rootUrl;
    services.urls.registryHost = new URL(rootUrl).host;
    // Everything started so far, released in reverse order by stop(), or at once when the start fails halfway.
    const stopMode = options.detachJobsOnStop ? "detach" : "stop";
    let retentionTimer: NodeJS.Timeout | undefined;
    const release = async (mode: "stop" | "detach") => {
      const errors: unknown[] = [];
      const attempt = async (step: () => unknown) => {
        try {
          await step();
        } catch (error) {
          errors.push(error);
        }
      };
      // Each step runs even when an earlier one failed: a stuck engine must not leave the port or database open.
      await attempt(() => clearInterval(retentionTimer));
      await attempt(() => services.faults.close());
      await attempt(() => jobs.close(mode));
      await attempt(() => services.registry.stop());
      await attempt(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            // Idle keep-alive connections would otherwise hold the server open.
            if ("closeAllConnections" in server) (server as { closeAllConnections(): void }).closeAllConnections();
          }),
      );
      await attempt(() => services.storage.close());
      await attempt(() => db.close());
      if (errors.length > 0) throw errors[0];
    };
    try {
      // The registry reaches the emulator (token realm, notifications) on loopback, whatever it advertises.
      const local = resolved.host === "0.0.0.0" || resolved.host === "::" || resolved.host === "localhost" ? "127.0.0.1" : host;
      await services.registry.start(`http://${local}:${port}`);
      if (services.registry.host) services.urls.registryHost = services.registry.host;
      await jobs.start();
    } catch (error) {
      // The outer catch must not close storage and database a second time.
      storage = undefined;
      await release("stop").catch(() => {});
      throw error;
    }

    // Retention policies are applied in the background; the admin API can also run a sweep on demand.
    retentionTimer = setInterval(() => {
      try {
        enforceRetention(services);
      } catch (error) {
        log(`retention sweep failed: ${(error as Error).message}`);
      }
    }, 5000);
    retentionTimer.unref();

    let stopped: Promise<void> | undefined;
    // Embedded emulators stop their containers; the command line detaches when a data dir keeps state for a restart.
    const stop = () => {
      stopped ??= release(stopMode);
      return stopped;
    };

    return {
      baseUrl,
      rootUrl,
      port,
      apiKey: bootstrap.apiKey,
      workspaceId: bootstrap.workspace.id,
      client: createHtcClient({ baseUrl, apiKey: bootstrap.apiKey }),
      services,
      stop,
    };
  } catch (error) {
    if (db.open) {
      await storage?.close();
      db.close();
    }
    throw error;
  }
}

function strictFromEnvironment(): boolean {
  return truthy(process.env[optionEnvironment.strict]);
}

/** A stable id of this emulator's state: labels its containers, so emulators sharing an engine stay apart. */
function instanceIdOf(db: ReturnType<typeof openDatabase>): string {
  return new MetaRepository(db).instanceId(newUuid);
}
