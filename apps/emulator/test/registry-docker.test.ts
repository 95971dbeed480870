// The project registry with the real Docker CLI, in both ways it runs: Debian's docker-registry as a child
// process, and (with no binary) a container of the registry image on the local engine. Each: `docker login` with
// the registry password, push of an image built offline, the image listed and its status (PENDING for the
// configured delay, then READY), jobs that run it (pulled with the project's credentials; registry images take
// precedence over the engine's), and isolation: a project's password can neither pull nor push another project's
// images. Every docker command uses a DOCKER_CONFIG of its own, so ~/.docker is never touched.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type HtcClient, jobId, unwrap } from "@htcemu/client";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bearerFor, contractClient, http, startTestEmulator } from "./helpers.js";
import {
  type DockerRun,
  dockerCli as docker,
  dockerMissing,
  describeIf,
  NO_REGISTRY_BIN,
  REGISTRY_BIN,
  realmToken,
  registryImageMissing,
  registryMissing,
} from "./registry-helpers.js";

const BASE_IMAGE = "htcemu/shell:1";
const READY_DELAY_SECONDS = 30;

const withDocker = await dockerMissing([BASE_IMAGE]);
const modes = [
  {
    name: "Debian's docker-registry as a child process",
    bin: REGISTRY_BIN,
    runs: /\(\/\S*registry, data in/,
    missing: registryMissing ?? withDocker,
  },
  // CI has the image (images/build.sh builds it from Debian's binary): HTC_REQUIRE_DOCKER=1 makes its absence fail.
  {
    name: "a registry container, without the binary",
    bin: NO_REGISTRY_BIN,
    runs: /\(container of \S+, host network, data in/,
    missing: withDocker ?? (await registryImageMissing()),
  },
];

for (const mode of modes) {
  describeIf(mode.missing, `registry tests with Docker (${mode.name})`)(`the project registry with the Docker CLI: ${mode.name}`, () => {
    let emulator: SpawnedEmulator;
    let client: HtcClient;
    const configs: string[] = [];
    const timings: Record<string, number> = {};

    beforeAll(async () => {
      const started = performance.now();
      emulator = await startTestEmulator([
        "--executor",
        "docker",
        "--registry",
        "on",
        "--registry-bin",
        mode.bin,
        "--registry-ready-delay",
        String(READY_DELAY_SECONDS),
      ]);
      timings["emulator start (process, incl. registry)"] = performance.now() - started;
      const ready = /registry listening on .* ready in (\d+) ms/.exec(emulator.output().stderr);
      if (ready) timings["registry start-up (config, spawn, /v2/ answers)"] = Number(ready[1]);
      client = contractClient(emulator, { apiKey: emulator.apiKey });
      // It runs the way this block is about, and says so.
      expect(emulator.output().stderr).toMatch(mode.runs);
      expect(emulator.output().stdout).not.toMatch(/registry\s+off:/);
    });

    afterAll(async () => {
      const host = registryHost();
      await emulator?.stop();
      // Leave the engine as it was: drop every reference to this registry (tags and digests) and the test images.
      if (host) {
        const refs = await docker(undefined, ["images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}"]);
        const remove = refs.stdout
          .split("\n")
          .filter((line) => line.startsWith(`${host}/`))
          .map((line) => {
            const [repo, tag, digest] = line.split(" ");
            return tag && tag !== "<none>" ? `${repo}:${tag}` : `${repo}@${digest}`;
          });
        if (remove.length) await docker(undefined, ["rmi", ...new Set(remove)]);
      }
      await docker(undefined, ["rmi", "htcemu-test/marker:1"]);
      for (const dir of configs) rmSync(dir, { recursive: true, force: true });
      console.log(
        `registry timings, ${mode.name} (ms): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`,
      );
    });

    let hostValue: string | undefined;
    function registryHost(): string | undefined {
      return hostValue;
    }

    async function newProject() {
      const project = await unwrap(client.api.POST("/htc/projects", { body: { projectName: "registry", projectDescription: "" } }));
      hostValue = project.containerRegistry!.split("/")[0];
      const task = await unwrap(
        client.api.POST("/htc/projects/{projectId}/tasks", {
          params: { path: { projectId: project.projectId } },
          body: { taskName: "t", taskDescription: "" },
        }),
      );
      return { projectId: project.projectId, taskId: task.taskId, uri: project.containerRegistry! };
    }

    async function createRepo(projectId: string, repoName: string) {
      return unwrap(
        client.api.POST("/htc/projects/{projectId}/container-registry/repo/{repoName}", { params: { path: { projectId, repoName } } }),
      );
    }

    /** A DOCKER_CONFIG logged in to the registry with a fresh password of `projectId`. */
    async function login(projectId: string): Promise<string> {
      const password = (await unwrap(
        client.api.GET("/htc/projects/{projectId}/container-registry/token", { params: { path: { projectId } }, parseAs: "text" }),
      )) as string;
      const config = mkdtempSync(join(tmpdir(), "htc-registry-docker-config-"));
      configs.push(config);
      const result = await docker(config, ["login", "-u", "AWS", "--password-stdin", registryHost()!], password);
      expect(result.code, result.stderr).toBe(0);
      timings["docker login"] ??= result.ms;
      return config;
    }

    /** Tags `source` as `target` and pushes it with `config`; the local tag is removed afterwards. */
    async function push(config: string, source: string, target: string): Promise<DockerRun> {
      expect((await docker(config, ["tag", source, target])).code).toBe(0);
      const result = await docker(config, ["push", target]);
      await docker(config, ["rmi", target]);
      return result;
    }

    async function images(projectId: string): Promise<string[]> {
      return (await unwrap(client.api.GET("/htc/projects/{projectId}/container-registry/images", { params: { path: { projectId } } })))
        .images;
    }

    async function imageStatus(projectId: string, imageName: string) {
      const { data, response } = await client.api.GET("/htc/projects/{projectId}/container-registry/images/{imageName}", {
        params: { path: { projectId, imageName } },
      });
      return response.status === 200 ? data!.status : response.status;
    }

    async function advanceClock(seconds: number) {
      await http(`${emulator.rootUrl}/_emulator/v1/clock`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ advanceSeconds: seconds }),
      });
    }

    async function submit(ids: { projectId: string; taskId: string }, imageName: string, script: string) {
      return client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: ids },
        body: [{ batchSize: 1, htcJobDefinition: { imageName, commands: ["sh", "-c", script], maxMemory: 64, execTimeoutSeconds: 120 } }],
      });
    }

    async function finished(ids: { projectId: string; taskId: string }, id: string, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = await unwrap(
          client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", { params: { path: { ...ids, jobId: id } } }),
        );
        if (job.status === "SUCCEEDED" || job.status === "FAILED") return job;
        if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    async function logs(ids: { projectId: string; taskId: string }, id: string) {
      const page = await unwrap(
        client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", {
          params: { path: { ...ids, jobId: id }, query: { sort: "asc" } },
        }),
      );
      return page.items.map((l) => l.message);
    }

    let projectA: Awaited<ReturnType<typeof newProject>>;
    let configA: string;

    it("logs in with the registry password, pushes an image, lists it, and reports PENDING for the delay, then READY", async () => {
      projectA = await newProject();
      await createRepo(projectA.projectId, "solver");
      await createRepo(projectA.projectId, "team/tools/solver");
      configA = await login(projectA.projectId);
      const pushed = await push(configA, BASE_IMAGE, `${projectA.uri}solver:v1`);
      expect(pushed.code, pushed.stderr).toBe(0);
      timings["docker push (2 MB image, new registry)"] = pushed.ms;
      expect((await push(configA, BASE_IMAGE, `${projectA.uri}team/tools/solver:v2`)).code).toBe(0);

      expect(await images(projectA.projectId)).toEqual(["solver:v1", "team/tools/solver:v2"]);
      expect(await imageStatus(projectA.projectId, "solver:v1")).toBe("PENDING");
      // A PENDING image cannot be used by jobs yet.
      const early = await submit(projectA, "solver:v1", "true");
      expect(early.response.status).toBe(400);
      expect(JSON.stringify(early.error)).toContain("PENDING");

      await advanceClock(READY_DELAY_SECONDS + 1);
      expect(await imageStatus(projectA.projectId, "solver:v1")).toBe("READY");
      // A name with '/' works percent-encoded (the typed client) and raw.
      expect(await imageStatus(projectA.projectId, "team/tools/solver:v2")).toBe("READY");
      const raw = await http(`${emulator.baseUrl}/htc/projects/${projectA.projectId}/container-registry/images/team/tools/solver:v2`, {
        headers: { Authorization: `Bearer ${await bearerFor(emulator, emulator.apiKey)}` },
      });
      expect(raw).toMatchObject({ status: 200, body: { status: "READY" } });
      // The project's full registry address in front of the name is understood too; without a tag, latest is meant.
      expect(await imageStatus(projectA.projectId, `${projectA.uri}solver:v1`)).toBe("READY");
      expect(await imageStatus(projectA.projectId, "solver")).toBe(404);
    });

    it("runs a job from the registry image, pulled with the project's credentials", async () => {
      const submitted = await submit(projectA, "solver:v1", "echo from-the-registry");
      expect(submitted.response.status, JSON.stringify(submitted.error)).toBe(200);
      const started = performance.now();
      const id = jobId(submitted.data![0]!.parentJobId!, 0);
      const job = await finished(projectA, id);
      timings["job from the registry: submit → SUCCEEDED (incl. pull)"] = performance.now() - started;
      expect(job.status).toBe("SUCCEEDED");
      expect(await logs(projectA, id)).toEqual(["from-the-registry"]);
      // The engine pulled it by digest from the project's namespace (the local tag was removed after the push).
      const refs = await docker(undefined, ["images", "--digests", "--format", "{{.Repository}}@{{.Digest}}"]);
      expect(refs.stdout).toContain(`${projectA.uri}solver@sha256:`);
    });

    it("prefers the registry's image over a local image of the same name", async () => {
      const dir = mkdtempSync(join(tmpdir(), "htc-registry-build-"));
      configs.push(dir);
      writeFileSync(join(dir, "marker"), "registry\n");
      writeFileSync(join(dir, "Dockerfile"), `FROM ${BASE_IMAGE}\nCOPY marker /marker\n`);
      const built = await docker(undefined, ["build", "-q", "-t", "htcemu-test/marker:1", dir]);
      expect(built.code, built.stderr).toBe(0);
      // Local only: runs the engine's image, as before registries existed.
      const local = await submit(projectA, BASE_IMAGE, "cat /marker 2>/dev/null || echo local");
      const localJob = await finished(projectA, jobId(local.data![0]!.parentJobId!, 0));
      expect(await logs(projectA, jobId(local.data![0]!.parentJobId!, 0))).toEqual(["local"]);
      expect(localJob.status).toBe("SUCCEEDED");
      // Pushed to the project's registry under the same name: the registry's wins.
      await createRepo(projectA.projectId, "htcemu/shell");
      expect((await push(configA, "htcemu-test/marker:1", `${projectA.uri}${BASE_IMAGE}`)).code).toBe(0);
      await advanceClock(READY_DELAY_SECONDS + 1);
      const fromRegistry = await submit(projectA, BASE_IMAGE, "cat /marker 2>/dev/null || echo local");
      expect(fromRegistry.response.status).toBe(200);
      await finished(projectA, jobId(fromRegistry.data![0]!.parentJobId!, 0));
      expect(await logs(projectA, jobId(fromRegistry.data![0]!.parentJobId!, 0))).toEqual(["registry"]);
    });

    it("keeps projects apart: another project's password can neither pull nor push, and none can push elsewhere", async () => {
      const projectB = await newProject();
      await createRepo(projectB.projectId, "solver");
      const configB = await login(projectB.projectId);

      const pull = await docker(configB, ["pull", `${projectA.uri}solver:v1`]);
      expect(pull.code).not.toBe(0);
      expect(pull.stderr).toMatch(/denied|unauthorized|not found/i);

      const intoA = await push(configB, BASE_IMAGE, `${projectA.uri}solver:evil`);
      expect(intoA.code).not.toBe(0);
      expect(intoA.stderr).toMatch(/denied|unauthorized/i);

      const intoB = await push(configA, BASE_IMAGE, `${projectB.uri}solver:evil`);
      expect(intoB.code).not.toBe(0);
      expect(intoB.stderr).toMatch(/denied|unauthorized/i);

      // A repository that was not created first is refused even to its own project.
      const uncreated = await push(configA, BASE_IMAGE, `${projectA.uri}uncreated:v1`);
      expect(uncreated.code).not.toBe(0);

      expect(await images(projectA.projectId)).not.toContain("solver:evil");
      expect(await images(projectB.projectId)).toEqual([]);
      // Naming another project's registry address in a job is refused too (the engine's cache holds A's pulls).
      // (Plain HTTP: the contract's imageName pattern already rules out a host with a port.)
      const foreign = await http(`${emulator.baseUrl}/htc/projects/${projectB.projectId}/tasks/${projectB.taskId}/jobs/batch`, {
        method: "POST",
        headers: { Authorization: `Bearer ${await bearerFor(emulator, emulator.apiKey)}`, "content-type": "application/json" },
        body: JSON.stringify([{ batchSize: 1, htcJobDefinition: { imageName: `${projectA.uri}solver:v1`, commands: ["true"] } }]),
      });
      expect(foreign.status).toBe(400);
      // And A's own password still works: its pull succeeds.
      const own = await docker(configA, ["pull", `${projectA.uri}solver:v1`]);
      expect(own.code, own.stderr).toBe(0);
      timings["docker pull (cached layers)"] = own.ms;
    });

    it("fails the submit for a missing image, and the job with ErrorStartingContainer when the image vanished later", async () => {
      const missing = await submit(projectA, "solver:nope", "true");
      expect(missing.response.status).toBe(400);
      expect(missing.error).toMatchObject({ errorDescription: expect.stringContaining("solver:nope") });

      await createRepo(projectA.projectId, "vanishing");
      expect((await push(configA, BASE_IMAGE, `${projectA.uri}vanishing:v1`)).code).toBe(0);
      await advanceClock(READY_DELAY_SECONDS + 1);
      expect(await imageStatus(projectA.projectId, "vanishing:v1")).toBe("READY");

      // Hold the job (a project limit of 0 vCPUs), delete the image, then let the job start.
      await unwrap(
        client.api.POST("/htc/projects/{projectId}/limits", {
          params: { path: { projectId: projectA.projectId } },
          body: { vCPUs: 0, modifierRole: "PROJECT_ADMIN" },
        }),
      );
      const held = await submit(projectA, "vanishing:v1", "echo should-not-run");
      expect(held.response.status).toBe(200);
      const id = jobId(held.data![0]!.parentJobId!, 0);

      const password = (await unwrap(
        client.api.GET("/htc/projects/{projectId}/container-registry/token", {
          params: { path: { projectId: projectA.projectId } },
          parseAs: "text",
        }),
      )) as string;
      const name = `rescale/${projectA.projectId}/vanishing`;
      const { token } = await realmToken(emulator.rootUrl, password, [`repository:${name}:pull,delete`]);
      const accept = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";
      const head = await fetch(`http://${registryHost()}/v2/${name}/manifests/v1`, {
        method: "HEAD",
        headers: { authorization: `Bearer ${token}`, accept },
      });
      const digest = head.headers.get("docker-content-digest")!;
      const deleted = await fetch(`http://${registryHost()}/v2/${name}/manifests/${digest}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(deleted.status).toBe(202);
      expect(await images(projectA.projectId)).not.toContain("vanishing:v1");
      expect(await imageStatus(projectA.projectId, "vanishing:v1")).toBe(404);

      await unwrap(client.api.DELETE("/htc/projects/{projectId}/limits", { params: { path: { projectId: projectA.projectId } } }));
      const job = await finished(projectA, id);
      expect(job).toMatchObject({ status: "FAILED", failureCode: "ErrorStartingContainer" });
      expect(job.statusReason).toContain("vanishing");
    });
  });
}
