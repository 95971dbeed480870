// `htc image create-repo|login-repo|push|get`. The registry endpoints may not be served by the emulator under
// test yet: then these cases are skipped with a message, and they run as soon as the endpoints land. The docker
// CLI is replaced by a recording script, except in the one case that pushes for real (when an engine, a local
// image and the emulator's registry are all there).
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureContext, createProjectAndTask, isServed, reachable, startTestEmulator, type TestEmulator, TestHome } from "./helpers.js";

let emulator: TestEmulator;
let home: TestHome;
let ids: { projectId: string; taskId: string };
let served = false;
let fakeDocker: string;
let dockerLog: string;

const SKIP = "the emulator does not serve the container-registry endpoints yet (404 'No operation answers')";

beforeAll(async () => {
  emulator = await startTestEmulator();
  home = new TestHome();
  ids = await createProjectAndTask(emulator, "images");
  await configureContext(home, emulator, ["--project-id", ids.projectId]);
  served = await isServed(emulator, "GET", `/htc/projects/${ids.projectId}/container-registry/images`);
  if (!served) console.warn(`image tests skipped: ${SKIP}`);
  // A stand-in for the docker CLI: records its arguments (and stdin of `login`), exits with $FAKE_DOCKER_EXIT.
  fakeDocker = join(home.dir, "fake-docker");
  dockerLog = join(home.dir, "docker.log");
  writeFileSync(
    fakeDocker,
    `#!/bin/sh\necho "$@" >> "${dockerLog}"\nif [ "$1" = "login" ]; then cat > "${dockerLog}.password"; fi\nexit \${FAKE_DOCKER_EXIT:-0}\n`,
  );
  chmodSync(fakeDocker, 0o755);
});

afterAll(async () => {
  await emulator?.stop();
  home?.remove();
});

const withFakeDocker = (extra: Record<string, string> = {}) => ({ env: { HTC_DOCKER: fakeDocker, ...extra } });

describe("htc image", () => {
  it("create-repo creates a repository, idempotently", async (ctx) => {
    if (!served) return ctx.skip(SKIP);
    const created = await home.run(["image", "create-repo", "my-app", "--json"]);
    expect(created.code).toBe(0);
    expect(created.json()).toMatchObject({ repositoryName: "my-app", successfullyCreated: true, projectId: ids.projectId });
    expect(created.json().registryURI).toMatch(/\/$/);
    const again = await home.run(["image", "create-repo", "my-app"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Repository exists:");
    expect((await home.run(["image", "create-repo", "Not_Valid"])).code).toBe(2);
    const project = (await home.run(["project", "get", ids.projectId, "--json"])).json();
    expect(project.repositories).toContain("my-app");
  });

  it("get lists the images, and an unknown image is the API's 404 (exit 1)", async (ctx) => {
    if (!served) return ctx.skip(SKIP);
    const list = await home.run(["image", "get", "--json"]);
    expect(list.code).toBe(0);
    expect(list.json()).toMatchObject({ containerRegistry: expect.stringMatching(/\/$/), images: expect.any(Array) });
    const missing = await home.run(["image", "get", "my-app:nope", "--json"]);
    expect(missing.code).toBe(1);
    expect(missing.errorJson().error).toMatchObject({ status: 404, errorType: "IMAGE_UNAVAILABLE" });
  });

  it("login-repo runs docker login -u AWS --password-stdin <host> with the registry token", async (ctx) => {
    if (!served) return ctx.skip(SKIP);
    writeFileSync(dockerLog, "");
    const login = await home.run(["image", "login-repo", "--json"], withFakeDocker());
    expect(login.code).toBe(0);
    const registry = (await home.run(["project", "get", ids.projectId, "--json"])).json().containerRegistry as string;
    const host = registry.split("/")[0];
    expect(login.json()).toEqual({ registry, host, loggedIn: true });
    expect(readFileSync(dockerLog, "utf8").trim()).toBe(`login -u AWS --password-stdin ${host}`);
    expect(readFileSync(`${dockerLog}.password`, "utf8").trim().length).toBeGreaterThan(0);
  });

  it("push logs in, tags <containerRegistry><repo>:<tag> and pushes it (docker stand-in, --no-wait)", async (ctx) => {
    if (!served) return ctx.skip(SKIP);
    writeFileSync(dockerLog, "");
    const push = await home.run(["image", "push", "my-tool:v3", "--repo", "tools/solver", "--no-wait", "--json"], withFakeDocker());
    expect(push.code).toBe(0);
    const registry = (await home.run(["project", "get", ids.projectId, "--json"])).json().containerRegistry as string;
    const target = `${registry}tools/solver:v3`;
    expect(push.json()).toEqual({ image: "tools/solver:v3", reference: target, status: "PUSHED" });
    const calls = readFileSync(dockerLog, "utf8").trim().split("\n");
    expect(calls).toEqual([`login -u AWS --password-stdin ${registry.split("/")[0]}`, `tag my-tool:v3 ${target}`, `push ${target}`]);
    // The repository was created first.
    expect((await home.run(["project", "get", ids.projectId, "--json"])).json().repositories).toContain("tools/solver");
  });

  it("a failing or missing docker CLI is a local tool error (exit 5)", async (ctx) => {
    if (!served) return ctx.skip(SKIP);
    const failing = await home.run(["image", "login-repo"], withFakeDocker({ FAKE_DOCKER_EXIT: "1" }));
    expect(failing.code).toBe(5);
    expect(failing.stderr).toContain("login failed with exit code 1");
    const missing = await home.run(["image", "push", "app:v1", "--no-wait", "--docker", join(home.dir, "no-such-docker")]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain("not found");
  });

  it("push with the real docker CLI waits until the image is READY", async (ctx) => {
    if (!served) return ctx.skip(SKIP);
    const local = "htcemu/shell:1";
    if (spawnSync("docker", ["image", "inspect", local], { stdio: "ignore" }).status !== 0) {
      return ctx.skip(`no Docker engine with the local image ${local} (built by images/build.sh)`);
    }
    const registry = (await home.run(["project", "get", ids.projectId, "--json"])).json().containerRegistry as string;
    if (!(await reachable(registry.split("/")[0]!))) return ctx.skip(`the emulator's registry ${registry} does not answer`);
    const push = await home.run(["image", "push", local, "--repo", "shell", "--tag", "t1", "--interval", "0.5", "--json"], {
      timeoutMs: 120_000,
    });
    const target = `${registry}shell:t1`;
    try {
      expect(push.code, push.stderr).toBe(0);
      expect(push.json()).toEqual({ image: "shell:t1", reference: target, status: "READY" });
      expect((await home.run(["image", "get", "--json"])).json().images).toContain("shell:t1");
      expect((await home.run(["image", "get", "shell:t1", "--json"])).json()).toEqual({ status: "READY" });
      // docker login kept its credentials in the temporary home, not the user's.
      expect(existsSync(join(home.dir, ".docker", "config.json"))).toBe(true);
    } finally {
      spawnSync("docker", ["rmi", target], { stdio: "ignore" });
    }
  }, 150_000);
});
