// Where the project registries run, without Docker: the decision (binary, container, off with the command that
// fixes it) for every kind of machine, the container of a Linux engine and of an engine in a VM (Docker Desktop,
// which this machine does not have: a fake engine stands in for it, and a local HTTP server for the published
// port), the configuration the registry gets in each, restarts and clean-up of containers, and the banner lines
// of the parts that are off.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, type Writable } from "node:stream";
import type Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DockerEngineCheck, DockerEngineInfo } from "../../src/jobs/docker-engine.js";
import { engineCommand, executorOffPart, offPartsBanner, probeParts } from "../../src/parts.js";
import {
  ContainerRunner,
  emulatorUrlFromContainer,
  OWNER_LABEL,
  ownerIsGone,
  ownerOf,
  registryContainerSpec,
} from "../../src/registry/container-runner.js";
import { type PlanInput, planRegistry, setupCommand } from "../../src/registry/placement.js";
import { RegistrySupervisor } from "../../src/registry/supervisor.js";

const temporary: string[] = [];
// The advice depends on DOCKER_HOST; these expectations are for a machine without it.
const dockerHost = process.env.DOCKER_HOST;
beforeAll(() => {
  delete process.env.DOCKER_HOST;
});
afterAll(() => {
  if (dockerHost !== undefined) process.env.DOCKER_HOST = dockerHost;
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

function engineOk(info: Partial<DockerEngineInfo> = {}): DockerEngineCheck {
  return {
    ok: true,
    info: {
      serverVersion: "27.0.0",
      apiVersion: "1.46",
      operatingSystem: "Debian GNU/Linux 12 (bookworm)",
      osType: "linux",
      name: "host",
      ncpu: 2,
      memTotalBytes: 4e9,
      desktop: false,
      ...info,
    },
  };
}
const desktop = engineOk({ operatingSystem: "Docker Desktop", name: "docker-desktop", desktop: true });
const noEngine: DockerEngineCheck = {
  ok: false,
  reason: "No Docker engine answers at the default Docker socket (ENOENT: connect ENOENT /var/run/docker.sock). There is no engine socket.",
};

const linuxRoot: Pick<PlanInput, "platform" | "root" | "apt"> = { platform: "linux", root: true, apt: true };
const plan = (input: Partial<PlanInput>) =>
  planRegistry({ mode: "auto", bin: "/usr/bin/docker-registry", binExists: true, engine: undefined, ...linuxRoot, ...input });

describe("where the registry runs", () => {
  it("runs the binary where it exists and the engine (if any) shares this machine's loopback", () => {
    expect(plan({})).toEqual({ run: "process", bin: "/usr/bin/docker-registry" });
    expect(plan({ engine: engineOk() })).toEqual({ run: "process", bin: "/usr/bin/docker-registry" });
    // No engine at all: the binary alone still serves pushes from other clients.
    expect(plan({ engine: noEngine }).run).toBe("process");
  });

  it("runs a container without the binary, and always with an engine in a VM (whose daemon cannot reach our loopback)", () => {
    expect(plan({ binExists: false, engine: engineOk() })).toEqual({
      run: "container",
      vm: false,
      because: "/usr/bin/docker-registry does not exist",
    });
    const onDesktop = plan({ binExists: true, engine: desktop });
    expect(onDesktop).toMatchObject({ run: "container", vm: true });
    expect(onDesktop.run === "container" && onDesktop.because).toContain("VM (Docker Desktop)");
    expect(plan({ binExists: false, engine: desktop, platform: "darwin" })).toMatchObject({ run: "container", vm: true });
  });

  it("is off only when asked, or when neither can run, and then names the one command that turns it on", () => {
    expect(plan({ mode: "off" })).toEqual({
      run: "off",
      why: "--registry off was given",
      fix: "start the emulator without --registry off",
    });
    expect(plan({ binExists: false, engine: noEngine })).toEqual({
      run: "off",
      why: "/usr/bin/docker-registry does not exist, and no Docker engine answers to run the registry in a container",
      fix: "bash scripts/docker/ensure-engine.sh",
    });
    expect(plan({ binExists: false, engine: noEngine, root: false })).toMatchObject({
      run: "off",
      fix: "sudo bash scripts/docker/ensure-engine.sh",
    });
  });

  it("names the command for each kind of machine", () => {
    expect(setupCommand({ platform: "darwin", root: false, apt: false, engine: undefined })).toMatch(/^start Docker Desktop/);
    expect(setupCommand({ platform: "win32", root: false, apt: false, engine: desktop })).toBe("docker pull registry:2");
    expect(setupCommand({ platform: "linux", root: false, apt: true, engine: desktop })).toBe("docker pull registry:2");
    expect(setupCommand({ platform: "linux", root: false, apt: false, engine: engineOk() })).toBe("docker pull registry:2");
    expect(setupCommand({ platform: "linux", root: false, apt: true, engine: engineOk() })).toBe(
      "sudo bash scripts/docker/ensure-engine.sh",
    );
    expect(setupCommand({ platform: "linux", root: true, apt: true, engine: engineOk() })).toBe("bash scripts/docker/ensure-engine.sh");
  });
});

describe("the registry's container", () => {
  const base = { image: "htcemu/registry:2", name: "htcemu-registry-5123", port: 5123, hostDir: "/data/registry", owner: "host/42" };

  it("on a Linux engine: host network, loopback, the emulator's user, no published port", () => {
    const spec = registryContainerSpec({ ...base, vm: false, user: "1000:1000" });
    expect(spec).toMatchObject({
      Image: "htcemu/registry:2",
      Entrypoint: ["/bin/registry"],
      Cmd: ["serve", "/htcemu-registry/config.yml"],
      User: "1000:1000",
      Env: [],
    });
    expect(spec.HostConfig).toEqual({
      NetworkMode: "host",
      Mounts: [{ Type: "bind", Source: "/data/registry", Target: "/htcemu-registry" }],
      RestartPolicy: { Name: "no" },
    });
    expect(spec.ExposedPorts).toBeUndefined();
    expect(spec.Labels).toEqual({ [OWNER_LABEL]: "host/42" });
    expect(emulatorUrlFromContainer("http://127.0.0.1:8787/_emulator/registry/token", false)).toBe(
      "http://127.0.0.1:8787/_emulator/registry/token",
    );
  });

  it("on an engine in a VM: the default network (none created), the port published on 127.0.0.1 only, host.docker.internal", () => {
    const spec = registryContainerSpec({ ...base, vm: true, user: undefined });
    expect(spec.User).toBeUndefined();
    expect(spec.ExposedPorts).toEqual({ "5123/tcp": {} });
    expect(spec.HostConfig).toEqual({
      PortBindings: { "5123/tcp": [{ HostIp: "127.0.0.1", HostPort: "5123" }] },
      Mounts: [{ Type: "bind", Source: "/data/registry", Target: "/htcemu-registry" }],
      RestartPolicy: { Name: "no" },
    });
    expect(spec.HostConfig?.NetworkMode).toBeUndefined();
    expect(emulatorUrlFromContainer("http://127.0.0.1:8787/_emulator/registry/token", true)).toBe(
      "http://host.docker.internal:8787/_emulator/registry/token",
    );
    expect(emulatorUrlFromContainer("http://localhost:8787/x", true)).toBe("http://host.docker.internal:8787/x");
    expect(emulatorUrlFromContainer("http://[::1]:8787/x", true)).toBe("http://host.docker.internal:8787/x");
    // An address that is not loopback (e.g. --public-url) is left as it is.
    expect(emulatorUrlFromContainer("http://198.51.100.5:8787/x", true)).toBe("http://198.51.100.5:8787/x");
  });

  it("knows a container whose emulator died from one whose emulator runs", () => {
    expect(ownerIsGone(ownerOf(), () => false)).toBe(false); // ours
    expect(ownerIsGone(`${hostname()}/123456`, () => false)).toBe(true);
    expect(ownerIsGone(`${hostname()}/123456`, () => true)).toBe(false);
    expect(ownerIsGone("another-host/123456", () => false)).toBe(false);
    expect(ownerIsGone(undefined)).toBe(false);
    expect(ownerIsGone(`${hostname()}/not-a-pid`, () => false)).toBe(false);
  });
});

/** A container of the fake engine: "running" means an HTTP server answers 401 on its port, like a registry. */
class FakeContainer {
  running = false;
  removed = false;
  private server: Server | undefined;
  private exit!: (result: { StatusCode: number }) => void;
  private readonly exited = new Promise<{ StatusCode: number }>((resolve) => {
    this.exit = resolve;
  });
  readonly output = new PassThrough();

  constructor(
    readonly id: string,
    readonly spec: Dockerode.ContainerCreateOptions,
    private readonly port: number,
  ) {}

  async attach() {
    return this.output;
  }

  async start() {
    this.server = createServer((_req, res) => {
      res.writeHead(401, { "www-authenticate": 'Bearer realm="x"' });
      res.end();
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
    this.running = true;
    this.output.write("registry: started\n");
  }

  wait() {
    return this.exited;
  }

  /** The registry in it dies. */
  die(code: number) {
    this.server?.close();
    this.server?.closeAllConnections();
    this.running = false;
    this.exit({ StatusCode: code });
  }

  async stop() {
    if (!this.running) throw Object.assign(new Error("not running"), { statusCode: 304 });
    this.die(0);
  }

  async remove() {
    if (this.removed) throw Object.assign(new Error("no such container"), { statusCode: 404 });
    if (this.running) this.die(137);
    this.removed = true;
  }
}

class FakeEngine {
  readonly containers: FakeContainer[] = [];
  readonly leftovers: { Id: string; Names: string[]; Labels: Record<string, string> }[] = [];
  readonly removedLeftovers: string[] = [];
  modem = {
    demuxStream: (stream: PassThrough, stdout: Writable) => stream.pipe(stdout),
  };

  async createContainer(spec: Dockerode.ContainerCreateOptions) {
    const port = Number(Object.keys(spec.ExposedPorts ?? {})[0]?.split("/")[0] ?? spec.name?.split("-").at(-1));
    const container = new FakeContainer(`c${this.containers.length}`, spec, port);
    this.containers.push(container);
    return container;
  }

  async listContainers() {
    return this.leftovers;
  }

  getContainer(id: string) {
    return { id, remove: async () => void this.removedLeftovers.push(id) };
  }
}

async function until(done: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function supervisorOn(engine: FakeEngine, vm: boolean, lines: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "htc-registry-unit-"));
  temporary.push(dir);
  const log = (line: string) => lines.push(line);
  const runner = new ContainerRunner(engine as unknown as Dockerode, "registry:2", vm, log);
  const supervisor = new RegistrySupervisor({
    runner,
    dir,
    port: 0,
    realm: "http://127.0.0.1:8787/_emulator/registry/token",
    service: "svc",
    issuer: "iss",
    certificatePem: "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
    notifications: { url: "http://127.0.0.1:8787/_emulator/registry/events", authorization: "Bearer secret" },
    log,
  });
  return { dir, supervisor };
}

describe("a registry container, supervised (fake engine)", () => {
  it("in a VM: listens in its own network on the published port, reaches the emulator as host.docker.internal, is restarted and removed", async () => {
    const engine = new FakeEngine();
    const lines: string[] = [];
    const { dir, supervisor } = supervisorOn(engine, true, lines);
    await supervisor.start();
    const port = supervisor.port;
    expect(supervisor.host).toBe(`127.0.0.1:${port}`);
    const [first] = engine.containers;
    expect(first!.spec).toMatchObject({
      name: `htcemu-registry-${port}`,
      Image: "registry:2",
      HostConfig: {
        PortBindings: { [`${port}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(port) }] },
        Mounts: [{ Source: dir, Target: "/htcemu-registry" }],
      },
    });
    expect(first!.spec.HostConfig?.NetworkMode).toBeUndefined();
    expect(first!.spec.User).toBeUndefined();
    const config = readFileSync(join(dir, "config.yml"), "utf8");
    expect(config).toContain(`addr: "0.0.0.0:${port}"`);
    expect(config).toContain('realm: "http://host.docker.internal:8787/_emulator/registry/token"');
    expect(config).toContain('url: "http://host.docker.internal:8787/_emulator/registry/events"');
    expect(config).toContain('rootdirectory: "/htcemu-registry/storage"');
    expect(config).toContain('rootcertbundle: "/htcemu-registry/token-issuer.pem"');
    expect(readFileSync(join(dir, "token-issuer.pem"), "utf8")).toContain("BEGIN CERTIFICATE");
    expect(supervisor.containerId).toBe("c0");
    expect(lines).toContain("registry: registry: started");

    // The registry dies: its container is removed and a new one answers on the same address.
    first!.die(2);
    await until(() => engine.containers.length === 2);
    await supervisor.ready();
    expect(first!.removed).toBe(true);
    expect(supervisor.host).toBe(`127.0.0.1:${port}`);
    expect((await fetch(`${supervisor.url}/v2/`)).status).toBe(401);
    expect(lines.join("\n")).toMatch(/registry exited with code 2; restarting in \d+ ms/);

    await supervisor.stop();
    expect(engine.containers.every((c) => c.removed && !c.running)).toBe(true);
  });

  it("on a Linux engine: the host network on loopback, as the emulator's user, the emulator on 127.0.0.1", async () => {
    const engine = new FakeEngine();
    const { dir, supervisor } = supervisorOn(engine, false, []);
    await supervisor.start();
    const spec = engine.containers[0]!.spec;
    expect(spec.HostConfig?.NetworkMode).toBe("host");
    expect(spec.HostConfig?.PortBindings).toBeUndefined();
    if (process.getuid) expect(spec.User).toBe(`${process.getuid()}:${process.getgid!()}`);
    const config = readFileSync(join(dir, "config.yml"), "utf8");
    expect(config).toContain(`addr: "127.0.0.1:${supervisor.port}"`);
    expect(config).toContain('realm: "http://127.0.0.1:8787/_emulator/registry/token"');
    await supervisor.stop();
    expect(engine.containers[0]!.removed).toBe(true);
  });

  it("removes the containers that emulators of this host left when they died, and only those", async () => {
    const engine = new FakeEngine();
    const dead = `${hostname()}/${2 ** 22 + 12345}`; // above Linux's pid_max default: no such process
    engine.leftovers.push(
      { Id: "dead", Names: ["/htcemu-registry-1"], Labels: { [OWNER_LABEL]: dead } },
      { Id: "mine", Names: ["/htcemu-registry-2"], Labels: { [OWNER_LABEL]: ownerOf() } },
      { Id: "elsewhere", Names: ["/htcemu-registry-3"], Labels: { [OWNER_LABEL]: "another-host/1" } },
    );
    const lines: string[] = [];
    const { supervisor } = supervisorOn(engine, false, lines);
    await supervisor.start();
    expect(engine.removedLeftovers).toEqual(["dead"]);
    expect(lines.join("\n")).toContain("removing htcemu-registry-1, left by an emulator that is gone");
    await supervisor.stop();
  });

  it("fails the start with the registry's own words when its container stops at once", async () => {
    const engine = new FakeEngine();
    const original = FakeContainer.prototype.start;
    const { supervisor } = supervisorOn(engine, false, []);
    FakeContainer.prototype.start = async function (this: FakeContainer) {
      this.output.write("configuration error: open /htcemu-registry/config.yml: permission denied\n");
      setTimeout(() => this.die(1), 20);
    };
    try {
      const error = await supervisor.start().catch((e: Error) => e);
      expect(String(error)).toContain("stopped at start (code 1)");
      expect(String(error)).toContain("permission denied");
      // Three ports were tried, every container removed.
      expect(engine.containers).toHaveLength(3);
      await until(() => engine.containers.every((c) => c.removed));
    } finally {
      FakeContainer.prototype.start = original;
      await supervisor.stop();
    }
  });
});

describe("the parts that are off", () => {
  it("says why jobs are simulated and what turns Docker on, on each kind of machine", () => {
    expect(executorOffPart("docker", "auto", undefined)).toBeUndefined();
    expect(executorOffPart("simulated", "simulated", undefined)).toEqual({
      part: "jobs",
      state: "simulated",
      why: "--executor simulated was given",
      fix: "start the emulator without --executor simulated",
    });
    const part = executorOffPart("simulated", "auto", noEngine.ok ? "" : noEngine.reason);
    expect(part?.why).toBe("No Docker engine answers at the default Docker socket (ENOENT: connect ENOENT /var/run/docker.sock)");
    expect(engineCommand("ENOENT", { platform: "linux", root: false, apt: true })).toBe("sudo bash scripts/docker/ensure-engine.sh");
    expect(engineCommand("ENOENT", { platform: "linux", root: true, apt: true })).toBe("bash scripts/docker/ensure-engine.sh");
    expect(engineCommand("EACCES: permission denied", { platform: "linux", root: false, apt: true })).toMatch(/^sudo usermod -aG docker/);
    expect(engineCommand("ENOENT", { platform: "linux", root: false, apt: false })).toMatch(/^install and start Docker Engine/);
    expect(engineCommand("ENOENT", { platform: "darwin", root: false, apt: false })).toMatch(/^start Docker Desktop/);
    process.env.DOCKER_HOST = "tcp://127.0.0.1:2375";
    try {
      expect(engineCommand("ECONNREFUSED", { platform: "linux", root: false, apt: true })).toBe(
        "start the engine at DOCKER_HOST=tcp://127.0.0.1:2375, or unset DOCKER_HOST",
      );
      expect(setupCommand({ platform: "linux", root: false, apt: true, engine: noEngine })).toBe("sudo apt-get install docker-registry");
    } finally {
      delete process.env.DOCKER_HOST;
    }
  });

  it("are predicted without starting an emulator, the same way a start finds them", async () => {
    expect(await probeParts({ executor: "simulated", registry: "off" })).toEqual([
      { part: "jobs", state: "simulated", why: "--executor simulated was given", fix: "start the emulator without --executor simulated" },
      { part: "registry", state: "off", why: "--registry off was given", fix: "start the emulator without --registry off" },
    ]);
    process.env.DOCKER_HOST = "unix:///nonexistent/docker.sock";
    try {
      const parts = await probeParts({ registryBin: "/nonexistent/docker-registry" });
      expect(parts.map((p) => [p.part, p.state])).toEqual([
        ["jobs", "simulated"],
        ["registry", "off"],
      ]);
      expect(parts[1]!.why).toBe(
        "/nonexistent/docker-registry does not exist, and no Docker engine answers to run the registry in a container",
      );
      // With --executor docker, the emulator would not start at all.
      expect((await probeParts({ executor: "docker", registry: "off" }))[0]).toMatchObject({ part: "jobs", state: "unavailable" });
    } finally {
      delete process.env.DOCKER_HOST;
    }
  });

  it("prints one block per part at the top of a banner, nothing when every part is on", () => {
    expect(offPartsBanner([])).toBe("");
    expect(
      offPartsBanner([
        { part: "jobs", state: "simulated", why: "no engine", fix: "bash scripts/docker/ensure-engine.sh" },
        { part: "registry", state: "off", why: "--registry off was given", fix: "start the emulator without --registry off" },
      ]),
    ).toBe(
      [
        "2 parts are off:",
        "  jobs      simulated: no engine",
        "            turn on: bash scripts/docker/ensure-engine.sh",
        "  registry  off: --registry off was given",
        "            turn on: start the emulator without --registry off",
        "",
        "",
      ].join("\n"),
    );
  });
});
