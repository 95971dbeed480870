// The registry process and the emulator's bookkeeping, without Docker: the supervisor restarts a registry that
// died, an in-memory emulator keeps the registry's data in a temporary folder removed on stop(), the registry's
// notifications record pushes and deletes without any API call, a registry never outlives a killed emulator, and
// a data dir keeps the registry (port, images, token key) across restarts.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { unwrap } from "@htcemu/client";
import { expect, it } from "vitest";
import { openDatabase } from "../src/db/database.js";
import { RegistryRepository } from "../src/db/repositories/registry.js";
import { startEmulator } from "../src/emulator.js";
import { ProcessRunner } from "../src/registry/process-runner.js";
import { RegistrySupervisor } from "../src/registry/supervisor.js";
import { REGISTRY_ISSUER, REGISTRY_SERVICE, RegistryTokenIssuer } from "../src/registry/token-service.js";
import { startTestEmulator } from "./helpers.js";
import {
  describeIf,
  projectWithRepo,
  pushTestImage,
  REGISTRY_BIN,
  realmToken,
  registryMissing,
  removeLater,
  tempDir,
  until,
} from "./registry-helpers.js";

const describeRegistry = describeIf(registryMissing, "registry supervisor tests");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describeRegistry("the registry process", () => {
  it("restarts a registry that died, on the same address", async () => {
    const db = openDatabase({ inMemory: true });
    const issuer = await RegistryTokenIssuer.loadOrCreate(new RegistryRepository(db), Date.now());
    const lines: string[] = [];
    const dir = tempDir("htc-registry-supervisor-");
    const supervisor = new RegistrySupervisor({
      runner: new ProcessRunner(REGISTRY_BIN),
      dir,
      port: 0,
      realm: "http://127.0.0.1:9/token",
      service: REGISTRY_SERVICE,
      issuer: REGISTRY_ISSUER,
      certificatePem: issuer.certificatePem,
      log: (line) => lines.push(line),
    });
    try {
      const started = performance.now();
      await supervisor.start();
      console.log(`registry start-up (spawn → /v2/ answers): ${Math.round(performance.now() - started)} ms`);
      const first = supervisor.pid!;
      const host = supervisor.host;
      expect((await fetch(`${supervisor.url}/v2/`)).status).toBe(401);
      process.kill(first, "SIGKILL");
      await until(
        () => supervisor.pid,
        (pid) => pid !== undefined && pid !== first,
      );
      await supervisor.ready();
      expect(supervisor.host).toBe(host);
      expect((await fetch(`${supervisor.url}/v2/`)).status).toBe(401);
      expect(supervisor.starts).toBe(2);
      expect(lines.join("\n")).toMatch(/registry exited with SIGKILL; restarting in \d+ ms/);
      // The written configuration listens on loopback only and authenticates with our tokens.
      const config = readFileSync(join(dir, "config.yml"), "utf8");
      expect(config).toContain(`addr: "127.0.0.1:${supervisor.port}"`);
      expect(config).toContain("rootcertbundle");
    } finally {
      await supervisor.stop();
      db.close();
    }
    expect(supervisor.pid).toBeUndefined();
  });

  it("keeps an in-memory emulator's registry data in a temporary folder that stop() removes", async () => {
    const lines: string[] = [];
    const emulator = await startEmulator({
      inMemory: true,
      executor: "simulated",
      registry: "on",
      registryBin: REGISTRY_BIN,
      log: (l) => lines.push(l),
    });
    const dir = /data in (\S+)\)/.exec(lines.join("\n"))?.[1];
    const pid = emulator.internals.registry.process!.pid!;
    try {
      expect(dir).toMatch(/htc-emulator-registry-/);
      expect(existsSync(join(dir!, "config.yml"))).toBe(true);
      expect(alive(pid)).toBe(true);
    } finally {
      await emulator.stop();
    }
    expect(existsSync(dir!)).toBe(false);
    expect(alive(pid)).toBe(false);
  });

  it("learns about pushes and deletes from the registry's notifications, without any API call", async () => {
    const emulator = await startEmulator({ inMemory: true, executor: "simulated", registry: "on", registryBin: REGISTRY_BIN });
    try {
      const { projectId, password } = await projectWithRepo(emulator, "notified");
      const name = `rescale/${projectId}/notified`;
      const { token } = await realmToken(emulator.rootUrl, password, [`repository:${name}:pull,push,delete`]);
      const registryUrl = `http://${emulator.internals.registry.host}`;
      const digest = await pushTestImage(registryUrl, token!, name, "v1");
      const repo = emulator.internals.core.repos.registry;
      const row = await until(
        () => repo.image(projectId, "notified", "v1"),
        (r) => r?.complete_at != null,
      );
      expect(row).toMatchObject({ digest, tag: "v1" });
      expect(emulator.internals.registry.statusOf(row!)).toBe("READY");
      // A new push of the tag replaces the digest; deleting the manifest removes the row.
      const second = await pushTestImage(registryUrl, token!, name, "v1", "another layer");
      await until(
        () => repo.image(projectId, "notified", "v1")?.digest,
        (d) => d === second,
      );
      const deleted = await fetch(`${registryUrl}/v2/${name}/manifests/${second}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(deleted.status).toBe(202);
      await until(
        () => repo.image(projectId, "notified", "v1"),
        (r) => r === undefined,
      );
    } finally {
      await emulator.stop();
    }
  });

  it("keeps the registry's port, images and token key in a data dir across restarts", async () => {
    const dataDir = tempDir("htc-registry-datadir-");
    const options = { dataDir, executor: "simulated" as const, registry: "on" as const, registryBin: REGISTRY_BIN };
    let emulator = await startEmulator(options);
    let projectId: string;
    let host: string;
    let tokenBefore: string;
    try {
      const made = await projectWithRepo(emulator, "kept");
      projectId = made.projectId;
      host = emulator.internals.registry.host!;
      tokenBefore = (await realmToken(emulator.rootUrl, made.password, [`repository:rescale/${projectId}/kept:pull,push`])).token!;
      await pushTestImage(`http://${host}`, tokenBefore, `rescale/${projectId}/kept`, "v1");
    } finally {
      await emulator.stop();
    }
    expect(readdirSync(join(dataDir, "registry"))).toEqual(expect.arrayContaining(["config.yml", "storage", "token-issuer.pem"]));
    emulator = await startEmulator(options);
    try {
      expect(emulator.internals.registry.host).toBe(host);
      const images = await unwrap(
        emulator.client.api.GET("/htc/projects/{projectId}/container-registry/images", { params: { path: { projectId } } }),
      );
      expect(images).toEqual({ containerRegistry: `${host}/rescale/${projectId}/`, images: ["kept:v1"] });
      // A registry token signed before the restart is still accepted: the key and certificate were kept.
      const tags = await fetch(`http://${host}/v2/rescale/${projectId}/kept/tags/list`, {
        headers: { authorization: `Bearer ${tokenBefore}` },
      });
      expect(await tags.json()).toEqual({ name: `rescale/${projectId}/kept`, tags: ["v1"] });
    } finally {
      await emulator.stop();
    }
  });

  it.skipIf(!existsSync("/usr/bin/setpriv"))("never outlives an emulator that was killed", async () => {
    const emulator = await startTestEmulator(["--registry", "on", "--registry-bin", REGISTRY_BIN]);
    const dir = /data in (\S+)\)/.exec(emulator.output().stderr)?.[1];
    removeLater(dir!);
    // The registry is the process whose command line names this emulator's configuration.
    const pid = await until(
      () => registryPidOf(join(dir!, "config.yml")),
      (p) => p !== undefined,
    );
    emulator.process.kill("SIGKILL");
    await emulator.stop();
    await until(
      () => alive(pid!),
      (running) => !running,
    );
  });
});

/** The pid of the docker-registry serving `config`, read from /proc. */
function registryPidOf(config: string): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv.includes("serve") && argv.includes(config) && !argv.some((a) => a.includes("setpriv"))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
