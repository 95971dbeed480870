// The registry as a container (no docker-registry binary where the emulator runs), with the real engine: its
// notifications record pushes without any API call, a registry container that dies is restarted on the same
// address, stop() removes the container and the in-memory emulator's folder, the container of an emulator that was
// killed is removed by the next one, and a data dir keeps its images when the registry moves from the binary to a
// container. (registry-docker.test.ts runs the Docker CLI against it: login, push, PENDING → READY, jobs, isolation.)
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { unwrap } from "@htcemu/client";
import { expect, it } from "vitest";
import { startEmulator } from "../src/emulator.js";
import { OWNER_LABEL } from "../src/registry/container-runner.js";
import { startTestEmulator } from "./helpers.js";
import {
  describeIf,
  dockerCli,
  dockerMissing,
  NO_REGISTRY_BIN,
  projectWithRepo,
  pushTestImage,
  REGISTRY_BIN,
  realmToken,
  registryImageMissing,
  registryMissing,
  tempDir,
  until,
} from "./registry-helpers.js";

const missing = (await dockerMissing([])) ?? (await registryImageMissing());
const describeContainer = describeIf(missing, "registry container tests");

/** `running`, `exited`, … of a container, or `gone`. */
async function containerState(id: string): Promise<string> {
  const inspected = await dockerCli(undefined, ["container", "inspect", "--format", "{{.State.Status}}", id]);
  return inspected.code === 0 ? inspected.stdout.trim() : "gone";
}

describeContainer("the registry as a container", () => {
  it("records pushes from its notifications, is restarted when it dies, and leaves nothing behind on stop()", async () => {
    const lines: string[] = [];
    const started = performance.now();
    const emulator = await startEmulator({
      inMemory: true,
      executor: "simulated",
      registry: "on",
      registryBin: NO_REGISTRY_BIN,
      log: (l) => lines.push(l),
    });
    console.log(`emulator with a registry container: started in ${Math.round(performance.now() - started)} ms`);
    const registry = emulator.internals.registry;
    const containerId = registry.process!.containerId!;
    const dir = /data in (\S+)\)/.exec(lines.join("\n"))?.[1];
    try {
      expect(registry.state).toMatchObject({ on: true, runs: "container" });
      expect(emulator.off).toEqual([{ part: "jobs", state: "simulated", why: "--executor simulated was given", fix: expect.any(String) }]);
      expect(lines.join("\n")).toContain(`running it as a container of`);
      expect(await containerState(containerId)).toBe("running");
      const labels = await dockerCli(undefined, [
        "container",
        "inspect",
        "--format",
        `{{index .Config.Labels "${OWNER_LABEL}"}} {{.HostConfig.NetworkMode}}`,
        containerId,
      ]);
      expect(labels.stdout.trim()).toBe(`${hostname()}/${process.pid} host`);

      // A push through the registry's API reaches the emulator as a notification: no API call needed.
      const { projectId, password } = await projectWithRepo(emulator, "notified");
      const name = `rescale/${projectId}/notified`;
      const { token } = await realmToken(emulator.rootUrl, password, [`repository:${name}:pull,push`]);
      const digest = await pushTestImage(`http://${registry.host}`, token!, name, "v1");
      const repo = emulator.internals.core.repos.registry;
      const row = await until(
        () => repo.image(projectId, "notified", "v1"),
        (r) => r?.complete_at != null,
      );
      expect(row).toMatchObject({ digest });

      // The registry dies: a new container answers on the same address, and the old one is gone.
      const host = registry.host;
      expect((await dockerCli(undefined, ["kill", containerId])).code).toBe(0);
      await until(
        () => registry.process!.containerId,
        (id) => id !== undefined && id !== containerId,
      );
      await registry.process!.ready();
      expect(registry.host).toBe(host);
      expect(await containerState(containerId)).toBe("gone");
      const tags = await fetch(`http://${host}/v2/${name}/tags/list`, { headers: { authorization: `Bearer ${token}` } });
      expect(await tags.json()).toEqual({ name, tags: ["v1"] });
    } finally {
      await emulator.stop();
    }
    expect(await containerState(registry.process!.containerId ?? containerId)).toBe("gone");
    expect(existsSync(dir!)).toBe(false);
  });

  it("removes, on start, the registry container of an emulator that was killed", async () => {
    const killed = await startTestEmulator(["--registry", "on", "--registry-bin", NO_REGISTRY_BIN, "--executor", "simulated"]);
    const owner = `${hostname()}/${killed.process.pid}`;
    const list = await dockerCli(undefined, ["ps", "-q", "--filter", `label=${OWNER_LABEL}=${owner}`]);
    const orphan = list.stdout.trim();
    expect(orphan).not.toBe("");
    killed.process.kill("SIGKILL");
    await killed.stop();
    // Nothing could stop it: it runs on, until the next emulator looks.
    expect(await containerState(orphan)).toBe("running");
    const next = await startEmulator({ inMemory: true, executor: "simulated", registry: "on", registryBin: NO_REGISTRY_BIN });
    try {
      expect(await containerState(orphan)).toBe("gone");
    } finally {
      await next.stop();
    }
  });

  it.skipIf(registryMissing !== undefined)(
    "keeps a data dir's images, port and token key when the registry moves from the binary to a container",
    async () => {
      const dataDir = tempDir("htc-registry-container-datadir-");
      const options = { dataDir, executor: "simulated" as const, registry: "on" as const };
      let emulator = await startEmulator({ ...options, registryBin: REGISTRY_BIN });
      let projectId: string;
      let host: string;
      let token: string;
      try {
        expect(emulator.internals.registry.state).toMatchObject({ runs: "process" });
        const made = await projectWithRepo(emulator, "kept");
        projectId = made.projectId;
        host = emulator.internals.registry.host!;
        token = (await realmToken(emulator.rootUrl, made.password, [`repository:rescale/${projectId}/kept:pull,push`])).token!;
        await pushTestImage(`http://${host}`, token, `rescale/${projectId}/kept`, "v1");
      } finally {
        await emulator.stop();
      }
      emulator = await startEmulator({ ...options, registryBin: NO_REGISTRY_BIN });
      try {
        expect(emulator.internals.registry.state).toMatchObject({ runs: "container" });
        expect(emulator.internals.registry.host).toBe(host);
        const images = await unwrap(
          emulator.client.api.GET("/htc/projects/{projectId}/container-registry/images", { params: { path: { projectId } } }),
        );
        expect(images).toEqual({ containerRegistry: `${host}/rescale/${projectId}/`, images: ["kept:v1"] });
        const tags = await fetch(`http://${host}/v2/rescale/${projectId}/kept/tags/list`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(await tags.json()).toEqual({ name: `rescale/${projectId}/kept`, tags: ["v1"] });
        // A second push lands in the same storage, written as this user.
        await pushTestImage(`http://${host}`, token, `rescale/${projectId}/kept`, "v2", "more");
      } finally {
        await emulator.stop();
      }
    },
  );
});
