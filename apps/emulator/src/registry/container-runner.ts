// The registry as a container on the local Docker engine, for machines without Debian's docker-registry binary
// and for engines in a VM (Docker Desktop), whose daemon cannot see a registry on the host's loopback at all:
// `docker push` and pulls are made by the daemon, inside the VM.
//
// The image is a distribution 2.x registry: `htcemu/registry:2` (built offline by images/build.sh from Debian's
// binary) or `registry:2` (the upstream image). The configuration the supervisor writes is the same as for the
// binary; only what the registry sees differs:
//   - Linux engine: host network, listening on 127.0.0.1:<port>, the emulator at 127.0.0.1, running as the
//     emulator's user (so the files it writes into the data dir stay the user's);
//   - engine in a VM: the default network (no host network there; no network is created), the port published on
//     127.0.0.1 only (on the host and in the VM, where the daemon pushes and pulls), the emulator reached as
//     `host.docker.internal` (by the registry for its notifications, by the daemon for the token realm).
// The registry's folder (config, token certificate, storage) is bind-mounted at /htcemu-registry.
//
// A container cannot be tied to the emulator's life the way `setpriv --pdeathsig` ties a child process: each is
// labelled with its owner (host name and pid), stop() removes it, and the next emulator removes those whose owner
// died without doing so.
import { hostname } from "node:os";
import { Writable } from "node:stream";
import type Dockerode from "dockerode";
import { dockerMessage, statusOf } from "../jobs/docker-images.js";
import type { RegistryInstance, RegistryRunner } from "./runner.js";

/** Where the registry's folder is mounted in the container. */
export const REGISTRY_MOUNT = "/htcemu-registry";
/** `<host name>/<pid>` of the emulator that runs the container. */
export const OWNER_LABEL = "org.htcemu.registry-owner";
/** The registry binary in both images (registry:2 keeps it there too). */
const ENTRYPOINT = "/bin/registry";
/** The name containers in a VM use for the machine that runs the engine (and the emulator). */
export const HOST_FROM_VM = "host.docker.internal";

export interface ContainerSpecInput {
  image: string;
  name: string;
  port: number;
  /** The engine runs in a VM (Docker Desktop): no host network there. */
  vm: boolean;
  /** The registry's folder on this machine. */
  hostDir: string;
  /** `uid:gid` to run as (Linux engines), or undefined for the image's user. */
  user: string | undefined;
  owner: string;
}

/** The container of one registry. Pure, so the VM path can be checked on machines that have none. */
export function registryContainerSpec(input: ContainerSpecInput): Dockerode.ContainerCreateOptions {
  const { image, name, port, vm, hostDir, user, owner } = input;
  const exposed = `${port}/tcp`;
  return {
    name,
    Image: image,
    Entrypoint: [ENTRYPOINT],
    Cmd: ["serve", `${REGISTRY_MOUNT}/config.yml`],
    // The image's REGISTRY_* variables would override the configuration file; ours are not passed at all.
    Env: [],
    ...(user ? { User: user } : {}),
    Labels: { [OWNER_LABEL]: owner },
    ...(vm ? { ExposedPorts: { [exposed]: {} } } : {}),
    HostConfig: {
      ...(vm ? { PortBindings: { [exposed]: [{ HostIp: "127.0.0.1", HostPort: String(port) }] } } : { NetworkMode: "host" }),
      Mounts: [{ Type: "bind", Source: hostDir, Target: REGISTRY_MOUNT }],
      RestartPolicy: { Name: "no" },
    },
  };
}

/** The emulator's `url` (on loopback) as a container on an engine in a VM reaches it. */
export function emulatorUrlFromContainer(url: string, vm: boolean): string {
  return vm ? url.replace(/^(https?:\/\/)(127\.0\.0\.1|localhost|\[::1\])(?=[:/]|$)/, `$1${HOST_FROM_VM}`) : url;
}

/** The owner label of this process. */
export function ownerOf(pid = process.pid): string {
  return `${hostname()}/${pid}`;
}

/** True when the owner of a container is a process of this host that no longer runs. */
export function ownerIsGone(owner: string | undefined, alive: (pid: number) => boolean = processAlive): boolean {
  if (!owner) return false;
  const slash = owner.lastIndexOf("/");
  const host = owner.slice(0, slash);
  const pid = Number(owner.slice(slash + 1));
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  return pid !== process.pid && !alive(pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class ContainerRunner implements RegistryRunner {
  readonly kind = "container";

  constructor(
    private readonly docker: Dockerode,
    private readonly image: string,
    private readonly vm: boolean,
    private readonly log: (line: string) => void,
  ) {}

  get description(): string {
    return `container of ${this.image}, ${this.vm ? "port published on 127.0.0.1 (engine in a VM)" : "host network"}`;
  }

  dirInside(): string {
    return REGISTRY_MOUNT;
  }

  listenAddress(port: number): string {
    // In a VM the container has a network of its own: it must listen there for the published port to reach it.
    return this.vm ? `0.0.0.0:${port}` : `127.0.0.1:${port}`;
  }

  emulatorUrl(url: string): string {
    return emulatorUrlFromContainer(url, this.vm);
  }

  /** Removes the registries of emulators of this host that died without removing them. */
  async prepare(): Promise<void> {
    let leftovers: Dockerode.ContainerInfo[];
    try {
      leftovers = await this.docker.listContainers({ all: true, filters: { label: [OWNER_LABEL] } });
    } catch (error) {
      this.log(`registry: could not look for leftover registry containers: ${dockerMessage(error)}`);
      return;
    }
    for (const info of leftovers) {
      if (!ownerIsGone(info.Labels[OWNER_LABEL])) continue;
      this.log(`registry: removing ${info.Names[0]?.slice(1) ?? info.Id.slice(0, 12)}, left by an emulator that is gone`);
      await removeContainer(this.docker.getContainer(info.Id), this.log);
    }
  }

  async launch(hostDir: string, port: number, output: (text: string) => void): Promise<RegistryInstance> {
    const spec = registryContainerSpec({
      image: this.image,
      name: `htcemu-registry-${port}`,
      port,
      vm: this.vm,
      hostDir,
      // On a Linux engine the files in the (bind-mounted) data dir stay the emulator user's.
      user: !this.vm && process.getuid && process.getgid ? `${process.getuid()}:${process.getgid()}` : undefined,
      owner: ownerOf(),
    });
    let container: Dockerode.Container;
    try {
      container = await this.docker.createContainer(spec);
    } catch (error) {
      // The name is for people reading `docker ps`; a clash (e.g. one still being removed) must not stop us.
      if (statusOf(error) !== 409) throw new Error(`the registry container could not be created: ${dockerMessage(error)}`);
      delete spec.name;
      container = await this.docker.createContainer(spec);
    }
    try {
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          output(chunk.toString("utf8"));
          done();
        },
      });
      this.docker.modem.demuxStream(stream, sink, sink);
      await container.start();
    } catch (error) {
      await removeContainer(container, this.log);
      throw new Error(`the registry container did not start: ${dockerMessage(error)}`);
    }
    let ended: string | undefined;
    const exited = container.wait().then(
      (result: { StatusCode?: number }) => `code ${result.StatusCode ?? "unknown"}`,
      (error: unknown) => (statusOf(error) === 404 ? "removed" : `lost contact with it: ${dockerMessage(error)}`),
    );
    const gone = exited.then(async (why) => {
      ended = why;
      await removeContainer(container, this.log);
      return why;
    });
    const log = this.log;
    return {
      containerId: container.id,
      get ended() {
        return ended;
      },
      exited: gone,
      async stop() {
        if (ended === undefined) {
          try {
            await container.stop({ t: 5 });
          } catch (error) {
            const status = statusOf(error);
            // 304: stopped already; 404: gone already.
            if (status !== 304 && status !== 404) log(`registry: stopping its container failed: ${dockerMessage(error)}`);
          }
        }
        await removeContainer(container, log);
        await gone;
      },
      kill() {
        void removeContainer(container, log);
      },
    };
  }
}

async function removeContainer(container: Dockerode.Container, log: (line: string) => void): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (error) {
    const status = statusOf(error);
    // 404: already gone; 409: a removal is already in progress.
    if (status !== 404 && status !== 409) log(`registry: removing container ${container.id.slice(0, 12)} failed: ${dockerMessage(error)}`);
  }
}
