// HtcEmulatorContainer: the htcemu/emulator image as a testcontainers module.
//
//   const emulator = await new HtcEmulatorContainer().start();
//   emulator.baseUrl, emulator.apiKey, emulator.client (a typed @htcemu/client), emulator.admin, emulator.stop()
//
// Jobs run as sibling containers on the same engine (its socket is mounted), unless the executor is `simulated`.
// The network path (the host's network, or a published port) follows from the engine: see network.ts. The image
// is built locally (`bash images/build.sh htcemu/emulator` in a clone of htc-emulator) and never pulled unless a
// pull policy says so.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";
import { type AdminClient, createAdminClient } from "@htcemu/client/admin";
import { createHtcClient, type HtcClient } from "@htcemu/client";
import {
  AbstractStartedContainer,
  type ContainerRuntimeClient,
  GenericContainer,
  getContainerRuntimeClient,
  type ImagePullPolicy,
  type StartedTestContainer,
  type StopOptions,
  type StoppedTestContainer,
} from "testcontainers";
import { chooseNetwork, type NetworkChoice, placement } from "./network.js";
import { READY_PATH, ReadinessWait } from "./readiness-wait.js";
import { TESTCONTAINERS_VERSION } from "./version.js";

/** The image started by default: the one built with this package's version. */
export const DEFAULT_IMAGE = `htcemu/emulator:${TESTCONTAINERS_VERSION}`;

/** Outcomes and timing of the simulated executor (the emulator checks it; see its `--simulation` flag). */
export interface SimulationProfile {
  seed?: number;
  /** Share of attempts that exit 0 (of those not drawn as timeout or out-of-memory). */
  successRatio?: number;
  /** Exit codes of failing attempts, drawn uniformly. */
  failureExitCodes?: number[];
  /** Share of attempts that run past their `execTimeoutSeconds`. */
  timeoutRatio?: number;
  /** Share of attempts killed for using too much memory. */
  oomRatio?: number;
  /** From STARTING to RUNNING, in milliseconds (uniform between the two). */
  startDelayMs?: [number, number];
  /** Run time of an attempt. */
  duration?: { distribution?: "fixed" | "uniform" | "exponential"; minMs?: number; maxMs?: number; meanMs?: number };
  /** Output lines per attempt. */
  logLines?: number;
  /** vCPUs the simulated cloud offers at once. */
  capacityVcpus?: number;
}

export interface HtcEmulatorOptions {
  /** Default: `htcemu/emulator:<this package's version>`. */
  image?: string;
  /** How jobs run: `docker` (sibling containers), `simulated`, or `auto` (Docker when its socket answers). Default `auto`. */
  executor?: "auto" | "docker" | "simulated";
  /** The simulated executor's profile. */
  simulation?: SimulationProfile;
  /** Check every response against the contract (500 on drift). Default false. */
  strict?: boolean;
  /**
   * A folder of this machine for the emulator's state (mounted at /data): it outlives the container, and a new
   * one started on it resumes. Default: state in memory, gone with the container.
   */
  dataDir?: string;
  /** The default user's API key. Default: a random one. */
  apiKey?: string;
  /** `host` network, published `ports`, or `auto` (see network.ts). */
  network?: NetworkChoice;
  /** The port the emulator listens on (on the host's network, or published). Default: a free one. */
  port?: number;
  /** More HTC_EMULATOR_* settings, e.g. `{ HTC_EMULATOR_REGISTRY: "off" }`. */
  environment?: Record<string, string>;
}

/** Pulls nothing: the image is built locally. */
const NEVER_PULL: ImagePullPolicy = { shouldPull: () => false };

export class HtcEmulatorContainer extends GenericContainer {
  private readonly options: HtcEmulatorOptions;
  private pullPolicyChosen = false;

  constructor(options: HtcEmulatorOptions = {}) {
    super(options.image ?? DEFAULT_IMAGE);
    this.options = { ...options };
    super.withPullPolicy(NEVER_PULL);
  }

  withExecutor(executor: NonNullable<HtcEmulatorOptions["executor"]>): this {
    this.options.executor = executor;
    return this;
  }

  withSimulation(profile: SimulationProfile): this {
    this.options.simulation = profile;
    return this;
  }

  withStrict(strict = true): this {
    this.options.strict = strict;
    return this;
  }

  withDataDir(dir: string): this {
    this.options.dataDir = dir;
    return this;
  }

  withApiKey(apiKey: string): this {
    this.options.apiKey = apiKey;
    return this;
  }

  withNetworkChoice(network: NetworkChoice): this {
    this.options.network = network;
    return this;
  }

  override withPullPolicy(pullPolicy: ImagePullPolicy): this {
    this.pullPolicyChosen = true;
    return super.withPullPolicy(pullPolicy);
  }

  override async start(): Promise<StartedHtcEmulatorContainer> {
    const runtime = await getContainerRuntimeClient();
    if (!this.pullPolicyChosen && !(await runtime.image.exists(this.imageName))) {
      throw new Error(
        `the image ${this.imageName.string} is not in the Docker engine: build it with \`bash images/build.sh htcemu/emulator\` in a clone of htc-emulator (or give another image, or a pull policy for one in a registry)`,
      );
    }
    const executor = this.options.executor ?? "auto";
    const mode = chooseNetwork(this.options.network ?? "auto", {
      operatingSystem: runtime.info.containerRuntime.operatingSystem,
      hasBridgeNetwork: await hasBridgeNetwork(runtime),
      platform: process.platform,
    });
    const port = this.options.port ?? (await freePort());
    const adminToken = randomBytes(18).toString("base64url");
    const place = placement(mode, port, runtime.info.containerRuntime.host, adminToken);
    const apiKey = this.options.apiKey ?? `tc-${randomBytes(16).toString("hex")}`;

    const environment: Record<string, string> = {
      ...place.environment,
      HTC_EMULATOR_API_KEY: apiKey,
      HTC_EMULATOR_EXECUTOR: executor,
      HTC_EMULATOR_STRICT: this.options.strict ? "1" : "0",
      ...(this.options.simulation ? { HTC_EMULATOR_SIMULATION: JSON.stringify(this.options.simulation) } : {}),
      ...(this.options.dataDir ? { HTC_EMULATOR_DATA_DIR: "/data", HTC_EMULATOR_IN_MEMORY: "0" } : { HTC_EMULATOR_IN_MEMORY: "1" }),
      ...this.options.environment,
    };
    this.withEnvironment(environment);
    if (place.networkMode) this.withNetworkMode(place.networkMode);
    if (place.publish) {
      const key = `${place.publish.port}/tcp`;
      this.createOpts.ExposedPorts = { ...this.createOpts.ExposedPorts, [key]: {} };
      this.hostConfig.PortBindings = {
        ...this.hostConfig.PortBindings,
        [key]: [{ HostIp: place.publish.hostIp, HostPort: String(place.publish.port) }],
      };
    }
    if (executor !== "simulated") {
      // Jobs are sibling containers on the engine that runs this one.
      this.withBindMounts([{ source: runtime.info.containerRuntime.remoteSocketPath, target: "/var/run/docker.sock" }]);
    }
    if (this.options.dataDir) {
      const dir = resolve(this.options.dataDir);
      mkdirSync(dir, { recursive: true });
      this.withBindMounts([{ source: dir, target: "/data" }]);
    }
    // (withStartupTimeout() applies to it; 60 s otherwise.)
    this.withWaitStrategy(new ReadinessWait(`${place.rootUrl}${READY_PATH}`));

    const started = await super.start();
    return new StartedHtcEmulatorContainer(started, {
      rootUrl: place.rootUrl,
      apiKey,
      adminToken: mode === "ports" ? adminToken : undefined,
      network: mode,
    });
  }
}

export class StartedHtcEmulatorContainer extends AbstractStartedContainer {
  /** `http://<host>:<port>`: the admin API and the readiness probe live under it. */
  readonly rootUrl: string;
  /** `<rootUrl>/api/v1`: the base URL of any HTC client. */
  readonly baseUrl: string;
  /** The default user's API key. */
  readonly apiKey: string;
  /** The admin token (published ports only: on the host's loopback the admin API is open). */
  readonly adminToken: string | undefined;
  /** Which path was taken: the host's network or a published port. */
  readonly network: "host" | "ports";
  /** A typed client of the HTC API, signed in with `apiKey`. */
  readonly client: HtcClient;
  private adminClient: AdminClient | undefined;

  constructor(
    started: StartedTestContainer,
    info: { rootUrl: string; apiKey: string; adminToken: string | undefined; network: "host" | "ports" },
  ) {
    super(started);
    this.rootUrl = info.rootUrl;
    this.baseUrl = `${info.rootUrl}/api/v1`;
    this.apiKey = info.apiKey;
    this.adminToken = info.adminToken;
    this.network = info.network;
    this.client = createHtcClient({ baseUrl: this.baseUrl, apiKey: info.apiKey });
  }

  /** The emulator's admin API (test controls: clock, faults, scheduler, reset, snapshots). */
  get admin(): AdminClient {
    this.adminClient ??= createAdminClient(
      this.rootUrl,
      this.adminToken ? { headers: { authorization: `Bearer ${this.adminToken}` } } : {},
    );
    return this.adminClient;
  }

  /** Stops the emulator with SIGTERM (it stops cleanly in well under a second) and removes the container. */
  override stop(options: Partial<StopOptions> = {}): Promise<StoppedTestContainer> {
    return super.stop({ timeout: 10_000, ...options });
  }
}

async function hasBridgeNetwork(runtime: ContainerRuntimeClient): Promise<boolean> {
  try {
    await runtime.network.getById("bridge").inspect();
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on this machine. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}
