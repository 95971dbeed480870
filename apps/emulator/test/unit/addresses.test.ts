// Where the emulator tells clients, its registry and its jobs to find it, in each way it runs: on the host, as a
// container on the host's network (Linux), and as a container behind a published port on Docker Desktop (no host
// network there: jobs run on a bridge and reach the host as host.docker.internal). Docker Desktop cannot run on
// the project's machines, so its path is checked here from the engine's description down to each URL.
import Dockerode from "dockerode";
import { describe, expect, it } from "vitest";
import { addressesOf, apiUrlForJobs } from "../../src/addresses.js";
import { originFor } from "../../src/http/origin.js";
import { describeEngine } from "../../src/jobs/docker-engine.js";
import { DockerExecutor } from "../../src/jobs/docker-executor.js";

const debian = { OperatingSystem: "Debian GNU/Linux 12 (bookworm)", Name: "ci", OSType: "linux", NCPU: 2 };
const desktop = { OperatingSystem: "Docker Desktop", Name: "docker-desktop", OSType: "linux", NCPU: 8 };

/** The URLs an emulator gives out, for an engine described by `info` (as the executor would decide). */
async function urls(listen: { host: string; port: number; publicUrl?: string }, info: Record<string, unknown>, jobNetwork?: string) {
  const executor = new DockerExecutor({
    docker: new Dockerode({ socketPath: `/tmp/no-such-docker-${process.pid}.sock` }),
    events: { running() {}, log() {}, finished() {} },
    clock: Date,
    instanceId: "unit",
    engine: describeEngine(info),
    ...(jobNetwork ? { networkMode: jobNetwork } : {}),
  });
  try {
    const addresses = addressesOf(listen);
    return {
      ...addresses,
      network: executor.networkMode,
      jobs: apiUrlForJobs(addresses.rootUrl, executor.hostAddressForContainers),
    };
  } finally {
    await executor.close("detach");
  }
}

describe("addresses", () => {
  it("on the host, or as a container on the host's network: loopback for everyone", async () => {
    expect(await urls({ host: "127.0.0.1", port: 8787 }, debian)).toEqual({
      rootUrl: "http://127.0.0.1:8787",
      baseUrl: "http://127.0.0.1:8787/api/v1",
      loopbackOrigin: "http://127.0.0.1:8787",
      network: "host",
      jobs: "http://127.0.0.1:8787/api/v1",
    });
  });

  it("Docker Desktop, -p 127.0.0.1:8787:8787 and --host 0.0.0.0: clients on localhost, jobs on a bridge through host.docker.internal", async () => {
    const desktopUrls = await urls({ host: "0.0.0.0", port: 8787, publicUrl: "http://localhost:8787" }, desktop);
    expect(desktopUrls).toEqual({
      rootUrl: "http://localhost:8787",
      baseUrl: "http://localhost:8787/api/v1",
      // The registry beside it, in the same container, always on loopback.
      loopbackOrigin: "http://127.0.0.1:8787",
      network: "bridge",
      jobs: "http://host.docker.internal:8787/api/v1",
    });
  });

  it("Docker Desktop with another port published (-p 127.0.0.1:18787:8787): --public-url carries it to clients and jobs", async () => {
    const moved = await urls({ host: "0.0.0.0", port: 8787, publicUrl: "http://127.0.0.1:18787/" }, desktop);
    expect(moved.rootUrl).toBe("http://127.0.0.1:18787");
    expect(moved.jobs).toBe("http://host.docker.internal:18787/api/v1");
    expect(moved.loopbackOrigin).toBe("http://127.0.0.1:8787");
  });

  it("Docker Desktop without --public-url: right only when the same port is published", async () => {
    const same = await urls({ host: "0.0.0.0", port: 8787 }, desktop);
    expect(same.rootUrl).toBe("http://127.0.0.1:8787");
    expect(same.jobs).toBe("http://host.docker.internal:8787/api/v1");
  });

  it("a Linux engine, the emulator behind a published port: jobs on the host's network reach that port on loopback", async () => {
    const published = await urls({ host: "0.0.0.0", port: 8787, publicUrl: "http://localhost:8787" }, debian);
    expect(published.network).toBe("host");
    expect(published.jobs).toBe("http://127.0.0.1:8787/api/v1");
  });

  it("jobs on a bridge asked for on Linux reach the host as host.docker.internal (the executor maps it to the gateway)", async () => {
    const bridged = await urls({ host: "0.0.0.0", port: 8787 }, debian, "bridge");
    expect(bridged.jobs).toBe("http://host.docker.internal:8787/api/v1");
  });

  it("a public URL on another host is what jobs use too", () => {
    expect(apiUrlForJobs("https://htc.example.com", "host.docker.internal")).toBe("https://htc.example.com/api/v1");
  });

  it("unspecified and IPv6 addresses", () => {
    expect(addressesOf({ host: "::", port: 9000 })).toEqual({
      rootUrl: "http://127.0.0.1:9000",
      baseUrl: "http://127.0.0.1:9000/api/v1",
      loopbackOrigin: "http://127.0.0.1:9000",
    });
    expect(addressesOf({ host: "::1", port: 9000 }).rootUrl).toBe("http://[::1]:9000");
    expect(addressesOf({ host: "localhost", port: 9000 })).toMatchObject({
      rootUrl: "http://localhost:9000",
      loopbackOrigin: "http://127.0.0.1:9000",
    });
  });
});

describe("the origin of links and storage endpoints, per request", () => {
  const fallback = "http://127.0.0.1:8787";

  it("without --public-url: the Host the caller used (the host's client, a job through host.docker.internal)", () => {
    expect(originFor(undefined, "localhost:8787", "http", fallback)).toBe("http://localhost:8787");
    expect(originFor(undefined, "host.docker.internal:8787", "http", fallback)).toBe("http://host.docker.internal:8787");
    expect(originFor(undefined, undefined, "http", fallback)).toBe(fallback);
  });

  it("Docker Desktop with --public-url http://localhost:18787: clients on this machine get it, a job its own name for the host", () => {
    const fixed = "http://localhost:18787";
    expect(originFor(fixed, "localhost:18787", "http", fallback)).toBe(fixed);
    expect(originFor(fixed, "127.0.0.1:8787", "http", fallback)).toBe(fixed);
    expect(originFor(fixed, "[::1]:18787", "http", fallback)).toBe(fixed);
    // Not localhost: inside the job's container that would be the container itself.
    expect(originFor(fixed, "host.docker.internal:18787", "http", fallback)).toBe("http://host.docker.internal:18787");
  });

  it("a public URL on another host (a proxy) wins whatever the Host header says", () => {
    const fixed = "https://htc.example.com";
    expect(originFor(fixed, "127.0.0.1:8787", "http", fallback)).toBe(fixed);
    expect(originFor(fixed, "198.51.100.5:8787", "http", fallback)).toBe(fixed);
  });
});
