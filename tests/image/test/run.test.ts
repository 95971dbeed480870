// The image as the README runs it: the host's network, the engine's socket, state in a mounted folder. Jobs are
// sibling containers that reach the emulator and its storage; images pushed from the host to the project's
// registry run as jobs; `docker stop` ends it cleanly and a new container on the same folder resumes.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHtcClient, type HtcClient, jobId, requireMember, unwrap } from "@htcemu/client";
import { createAdminClient } from "@htcemu/client/admin";
import { optionEnvironment } from "@htcemu/emulator";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  apiKeyOf,
  cleanUp,
  docker,
  dockerOk,
  type Emulator,
  freePort,
  health,
  IMAGE,
  ready,
  runEmulator,
  tempFolder,
  until,
} from "./container.js";

const unavailable = inject("imageUnavailable");
afterAll(cleanUp);

type Path = { projectId: string; taskId: string };

async function projectAndTask(htc: HtcClient, name: string): Promise<Path> {
  const project = await unwrap(htc.api.POST("/htc/projects", { body: { projectName: name, projectDescription: "image tests" } }));
  const projectId = requireMember(project, "projectId");
  const task = await unwrap(
    htc.api.POST("/htc/projects/{projectId}/tasks", { params: { path: { projectId } }, body: { taskName: name, taskDescription: "" } }),
  );
  return { projectId, taskId: requireMember(task, "taskId") };
}

async function submit(htc: HtcClient, path: Path, batchSize: number, imageName: string, commands: string[]): Promise<string[]> {
  const [batch] = await unwrap(
    htc.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
      params: { path },
      body: [{ jobName: "image-test", batchSize, htcJobDefinition: { imageName, commands, maxVCpus: 1, maxMemory: 256 } }],
    }),
  );
  return Array.from({ length: batchSize }, (_, i) => jobId(batch!.parentJobId!, i));
}

async function statusOf(htc: HtcClient, path: Path, id: string): Promise<string> {
  return (await unwrap(htc.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", { params: { path: { ...path, jobId: id } } })))
    .status!;
}

async function finished(htc: HtcClient, path: Path, ids: string[], timeoutMs = 90_000): Promise<string[]> {
  return until(
    `${ids.length} jobs to end`,
    async () => {
      const statuses = await Promise.all(ids.map((id) => statusOf(htc, path, id)));
      return statuses.every((s) => s === "SUCCEEDED" || s === "FAILED") ? statuses : undefined;
    },
    timeoutMs,
  );
}

async function logsOf(htc: HtcClient, path: Path, id: string): Promise<string[]> {
  const page = await unwrap(
    htc.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", {
      params: { path: { ...path, jobId: id }, query: { sort: "asc" } },
    }),
  );
  return requireMember(page, "items").map((l) => requireMember(l, "message"));
}

describe.skipIf(unavailable)(
  "docker run --network host -v /var/run/docker.sock:/var/run/docker.sock -v $PWD/.htc:/data htcemu/emulator",
  () => {
    let data: string;
    let emulator: Emulator;
    let htc: HtcClient;

    it("turns healthy, prints its banner and keeps its state in /data", async () => {
      data = join(tempFolder("run"), ".htc");
      emulator = await runEmulator({ data });
      await ready(emulator);
      await until("healthy", async () => ((await health(emulator.id)) === "healthy" ? true : undefined), 20_000, 100);
      const logs = await emulator.logs();
      expect(logs).toContain(`base URL   ${emulator.baseUrl}`);
      expect(logs).toMatch(/executor\s+docker/);
      expect(logs).toMatch(/registry\s+127\.0\.0\.1:\d+/);
      expect(existsSync(join(data, "emulator.sqlite"))).toBe(true);
      htc = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: await apiKeyOf(emulator) });
      expect((await unwrap(htc.api.GET("/auth/whoami"))).user?.email).toBeTruthy();
    });

    it("serves the dashboard at /ui/ (the @htcemu/dashboard package installed with the emulator)", async () => {
      const page = await fetch(`${emulator.rootUrl}/ui/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      const script = /src="\/ui\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(script, html).toBeDefined();
      const asset = await fetch(`${emulator.rootUrl}/ui/${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get("content-type")).toMatch(/^text\/javascript/);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    });

    it("runs jobs as sibling containers that reach the API and the task's storage", async () => {
      const path = await projectAndTask(htc, "siblings");
      const [id] = await submit(htc, path, 1, "htcemu/node:20", [
        "sh",
        "-c",
        "cd /tmp && echo stored-by-a-job > out.txt && htcctl -q upload out.txt && echo uploaded",
      ]);
      expect(await finished(htc, path, [id!])).toEqual(["SUCCEEDED"]);
      expect(await logsOf(htc, path, id!)).toContain("uploaded");
      const { url } = await unwrap(
        htc.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
          params: { path, query: { filePath: "out.txt", method: "GET" } },
        }),
      );
      expect(await (await fetch(url!)).text()).toBe("stored-by-a-job\n");
    });

    it("takes docker login and docker push from the host, and runs the pushed image", async () => {
      const path = await projectAndTask(htc, "registry");
      const repo = await unwrap(
        htc.api.POST("/htc/projects/{projectId}/container-registry/repo/{repoName}", {
          params: { path: { projectId: path.projectId, repoName: "pushed" } },
        }),
      );
      const password = await unwrap(
        htc.api.GET("/htc/projects/{projectId}/container-registry/token", {
          params: { path: { projectId: path.projectId } },
          parseAs: "text",
        }),
      );
      const registryURI = requireMember(repo, "registryURI");
      const registryHost = registryURI.split("/")[0]!;
      const config = mkdtempSync(join(tmpdir(), "htcemu-image-docker-"));
      const env = { ...process.env, DOCKER_CONFIG: config };
      const reference = `${registryURI}pushed:1`;
      try {
        await dockerOk(["login", "--username", "AWS", "--password-stdin", registryHost], { env, input: password.trim() });
        await dockerOk(["tag", "htcemu/shell:1", reference], { env });
        await dockerOk(["push", "-q", reference], { env });
        await until("the pushed image to be READY", async () => {
          const image = await unwrap(
            htc.api.GET("/htc/projects/{projectId}/container-registry/images/{imageName}", {
              params: { path: { projectId: path.projectId, imageName: "pushed:1" } },
            }),
          );
          return image.status === "READY" ? true : undefined;
        });
        // The job names the image relative to the project's registry, as on the real service.
        await docker(["rmi", reference], { env });
        const [id] = await submit(htc, path, 1, "pushed:1", ["sh", "-c", "echo ran the pushed image"]);
        expect(await finished(htc, path, [id!])).toEqual(["SUCCEEDED"]);
        expect(await logsOf(htc, path, id!)).toContain("ran the pushed image");
      } finally {
        await docker(["rmi", reference], { env });
        await docker(["logout", registryHost], { env });
      }
    });

    it("stops on SIGTERM in under 5 s, and a new container on the same folder resumes queued and running jobs", async () => {
      // Two jobs of four run at once (two vCPUs); the other two wait in the queue when the emulator stops.
      const port = emulator.port;
      const { ms: firstStop } = await emulator.stop();
      emulator = await runEmulator({ data, port, env: { HTC_EMULATOR_CAPACITY_VCPUS: "2" } });
      await ready(emulator);
      const path = await projectAndTask(htc, "resume");
      const ids = await submit(htc, path, 4, "htcemu/shell:1", ["sh", "-c", "echo started; sleep 2; echo done"]);
      await until("two jobs RUNNING", async () => {
        const statuses = await Promise.all(ids.map((id) => statusOf(htc, path, id)));
        return statuses.filter((s) => s === "RUNNING").length === 2 ? statuses : undefined;
      });
      const stopped = await emulator.stop();
      expect(stopped.code).toBe(0);
      expect(stopped.ms).toBeLessThan(5000);
      expect(firstStop).toBeLessThan(5000);
      expect(await emulator.logs()).toMatch(/received SIGTERM, stopping\n[\s\S]*stopped in [\d.]+ s/);

      emulator = await runEmulator({ data, port, env: { HTC_EMULATOR_CAPACITY_VCPUS: "2" } });
      await ready(emulator);
      expect(await finished(htc, path, ids)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
      for (const id of ids) expect(await logsOf(htc, path, id)).toEqual(["started", "done"]);
    });

    it("stops on SIGINT too (docker run -it, then Ctrl-C)", async () => {
      const stopped = await emulator.stop("INT");
      expect(stopped.code).toBe(0);
      expect(await emulator.logs()).toContain("received SIGINT, stopping");
    });
  },
);

describe.skipIf(unavailable)("settings", () => {
  it("every HTC_EMULATOR_* variable is an option of the image's command", async () => {
    const help = await dockerOk(["run", "--rm", "--network", "none", IMAGE, "--help"]);
    for (const variable of Object.values(optionEnvironment)) expect(help.replace(/\s+/g, " ")).toContain(variable);
  });

  it("are honoured as variables", async () => {
    const data = tempFolder("env");
    writeFileSync(
      join(data, "seed.json"),
      JSON.stringify({ workspaces: [{ name: "team-b", users: [{ email: "b@example.com", fullName: "B", apiKey: "team-b-key-123" }] }] }),
    );
    const registryPort = await freePort();
    const emulator = await runEmulator({
      data,
      env: {
        HTC_EMULATOR_API_KEY: "image-test-key-1",
        HTC_EMULATOR_TOKEN_LIFETIME: "600",
        HTC_EMULATOR_EXECUTOR: "simulated",
        HTC_EMULATOR_SIMULATION: JSON.stringify({
          successRatio: 0,
          failureExitCodes: [7],
          startDelayMs: [0, 0],
          duration: { distribution: "fixed", minMs: 10 },
        }),
        HTC_EMULATOR_WORKSPACE_VCPU_LIMIT: "12",
        HTC_EMULATOR_LOG_REQUESTS: "1",
        HTC_EMULATOR_REGISTRY_PORT: String(registryPort),
        HTC_EMULATOR_SEED: "seed.json",
        HTC_EMULATOR_STRICT: "1",
      },
    });
    await ready(emulator);
    const token = await fetch(`${emulator.baseUrl}/auth/token`, { headers: { authorization: "Token image-test-key-1" } });
    expect(((await token.json()) as { expiresIn: number }).expiresIn).toBe(600);
    const seeded = await fetch(`${emulator.baseUrl}/auth/whoami`, { headers: { authorization: "Token team-b-key-123" } });
    expect(seeded.status).toBe(200);
    const htc = createHtcClient({ baseUrl: emulator.baseUrl, apiKey: "image-test-key-1" });
    const admin = createAdminClient(emulator.rootUrl);
    expect((await admin.info()).executor).toBe("simulated");
    const path = await projectAndTask(htc, "settings");
    const [id] = await submit(htc, path, 1, "any/image:1", ["true"]);
    expect(await finished(htc, path, [id!])).toEqual(["FAILED"]);
    const me = await unwrap(htc.api.GET("/auth/whoami"));
    const limits = await unwrap(
      htc.api.GET("/htc/workspaces/{workspaceId}/limits", {
        params: { path: { workspaceId: requireMember(requireMember(requireMember(me, "user"), "workspace"), "id") } },
      }),
    );
    expect(limits.vCPUs).toBe(12);
    const logs = await emulator.logs();
    expect(logs).toMatch(/GET \/api\/v1\/auth\/whoami 200/);
    expect(logs).toContain(`registry   127.0.0.1:${registryPort}`);
  });

  it("are honoured as flags after the image's name, and the health check follows --port", async () => {
    const port = await freePort();
    const emulator = await runEmulator({ socket: false, args: ["--port", String(port), "--in-memory", "--executor", "simulated"] });
    const flagged = { ...emulator, rootUrl: `http://127.0.0.1:${port}` };
    await ready(flagged);
    await until("healthy", async () => ((await health(emulator.id)) === "healthy" ? true : undefined), 20_000, 100);
    expect(await emulator.logs()).toContain("state      in memory");
  });
});
