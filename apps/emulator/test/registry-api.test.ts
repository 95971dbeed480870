// The registry operations of the HTC API and the token realm, without Docker: repositories (idempotent creation,
// names with `/`), the registry fields of a project, the `docker login` password, which access the realm grants
// for it, image status errors, and how the emulator starts when no registry can run (no binary, no engine) or it is
// turned off: the banner's first lines say so, with the command that turns it on.
import type { HtcApiError, HtcClient } from "@htcemu/client";
import { unwrap } from "@htcemu/client";
import { type SpawnedEmulator, spawnEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contractClient, http, secondWorkspace, startTestEmulator } from "./helpers.js";
import { basic, describeIf, NO_REGISTRY_BIN, REGISTRY_BIN, realmToken, registryMissing } from "./registry-helpers.js";

const describeRegistry = describeIf(registryMissing, "registry tests");

describeRegistry("the project registry's API", () => {
  let emulator: SpawnedEmulator;
  let client: HtcClient;

  beforeAll(async () => {
    emulator = await startTestEmulator(["--registry", "on", "--registry-bin", REGISTRY_BIN]);
    client = contractClient(emulator, { apiKey: emulator.apiKey });
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  async function newProject(c: HtcClient = client) {
    return unwrap(c.api.POST("/htc/projects", { body: { projectName: "registry", projectDescription: "" } }));
  }

  async function createRepo(projectId: string, repoName: string, c: HtcClient = client) {
    return unwrap(
      c.api.POST("/htc/projects/{projectId}/container-registry/repo/{repoName}", { params: { path: { projectId, repoName } } }),
    );
  }

  async function password(projectId: string, c: HtcClient = client): Promise<string> {
    return unwrap(
      c.api.GET("/htc/projects/{projectId}/container-registry/token", { params: { path: { projectId } }, parseAs: "text" }),
    ) as Promise<string>;
  }

  const bearer = async () => {
    const { body } = await http(`${emulator.baseUrl}/auth/token`, { headers: { Authorization: `Token ${emulator.apiKey}` } });
    return (body as { tokenValue: string }).tokenValue;
  };

  it("gives every project a loopback registry address with a trailing slash", async () => {
    const project = await newProject();
    expect(project.containerRegistry).toMatch(new RegExp(`^127\\.0\\.0\\.1:\\d+/rescale/${project.projectId}/$`));
    expect(new URL(`http://${project.containerRegistry}`).port).not.toBe(new URL(emulator.rootUrl).port);
    expect(project.repositories ?? []).toEqual([]);
  });

  it("creates repositories idempotently, and lists them on the project", async () => {
    const project = await newProject();
    const first = await createRepo(project.projectId, "opencv-htc-tutorial");
    expect(first).toEqual({
      repositoryName: "opencv-htc-tutorial",
      successfullyCreated: true,
      projectId: project.projectId,
      createdBy: expect.any(String),
      workspaceId: project.workspaceId,
      registryURI: project.containerRegistry,
    });
    const again = await createRepo(project.projectId, "opencv-htc-tutorial");
    expect(again).toEqual({ ...first, successfullyCreated: false });
    // The Python client posts `{}` as JSON: accepted and ignored.
    const withBody = await http(`${emulator.baseUrl}/htc/projects/${project.projectId}/container-registry/repo/opencv-htc-tutorial`, {
      method: "POST",
      headers: { Authorization: `Bearer ${await bearer()}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(withBody).toMatchObject({ status: 200, body: { successfullyCreated: false } });
    const read = await unwrap(client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: project.projectId } } }));
    expect(read.repositories).toEqual(["opencv-htc-tutorial"]);
    expect(read.containerRegistry).toBe(first.registryURI);
  });

  it("accepts repository names with '/', percent-encoded or raw, and refuses invalid names with 400", async () => {
    const project = await newProject();
    // The typed client encodes the '/' as %2F.
    expect((await createRepo(project.projectId, "team/tools/solver")).repositoryName).toBe("team/tools/solver");
    const raw = await http(`${emulator.baseUrl}/htc/projects/${project.projectId}/container-registry/repo/team/tools/solver`, {
      method: "POST",
      headers: { Authorization: `Bearer ${await bearer()}` },
    });
    expect(raw).toMatchObject({ status: 200, body: { repositoryName: "team/tools/solver", successfullyCreated: false } });
    // (Plain HTTP: the contract-checking client would refuse to send these.)
    const token = await bearer();
    for (const bad of ["Upper", "a__b", "trailing-", "a//b", "x".repeat(211)]) {
      const { status, body } = await http(
        `${emulator.baseUrl}/htc/projects/${project.projectId}/container-registry/repo/${encodeURIComponent(bad)}`,
        {
          method: "POST",
          headers: { Authorization: `Bearer ${token}` },
        },
      );
      expect(status, bad).toBe(400);
      expect(body).toMatchObject({ errorType: "VALIDATION_ERROR", errorDescription: expect.stringContaining("repoName") });
    }
    const read = await unwrap(client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: project.projectId } } }));
    expect(read.repositories).toEqual(["team/tools/solver"]);
  });

  it("answers 404 for another workspace's project", async () => {
    const project = await newProject();
    const other = contractClient(emulator, { apiKey: (await secondWorkspace(emulator, "Registry other")).apiKey });
    const error = await createRepo(project.projectId, "solver", other).catch((e: unknown) => e);
    expect((error as HtcApiError).status).toBe(404);
    expect(((await password(project.projectId, other).catch((e: unknown) => e)) as HtcApiError).status).toBe(404);
  });

  it("issues registry passwords as text/plain, also without the /api/v1 prefix (as the tutorial calls it)", async () => {
    const project = await newProject();
    const token = await bearer();
    for (const url of [
      `${emulator.baseUrl}/htc/projects/${project.projectId}/container-registry/token`,
      `${emulator.rootUrl}/htc/projects/${project.projectId}/container-registry/token`,
    ]) {
      const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      const text = await response.text();
      expect(text).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    // Each call gives a new password; all stay valid.
    const [a, b] = [await password(project.projectId), await password(project.projectId)];
    expect(a).not.toBe(b);
    expect((await realmToken(emulator.rootUrl, a, [])).status).toBe(200);
    expect((await realmToken(emulator.rootUrl, b, [])).status).toBe(200);
    // A password is not a bearer token of the API.
    expect((await http(`${emulator.baseUrl}/htc/projects`, { headers: { Authorization: `Bearer ${a}` } })).status).toBe(401);
  });

  it("grants a password pull/push/delete on its own project's created repositories only", async () => {
    const a = await newProject();
    const b = await newProject();
    await createRepo(a.projectId, "solver");
    await createRepo(b.projectId, "solver");
    const pw = await password(a.projectId);
    const mine = `repository:rescale/${a.projectId}/solver`;
    const theirs = `repository:rescale/${b.projectId}/solver`;
    const granted = await realmToken(emulator.rootUrl, pw, [
      `${mine}:pull,push`,
      `${theirs}:pull`,
      `repository:rescale/${a.projectId}/uncreated:pull,push`,
      "registry:catalog:*",
    ]);
    expect(granted.status).toBe(200);
    expect(granted.access).toEqual([{ type: "repository", name: `rescale/${a.projectId}/solver`, actions: ["pull", "push"] }]);
    expect((await realmToken(emulator.rootUrl, pw, [`${mine}:*`])).access).toEqual([
      { type: "repository", name: `rescale/${a.projectId}/solver`, actions: ["pull", "push", "delete"] },
    ]);
    // Several scopes in one parameter, separated by spaces (what some clients send).
    expect((await realmToken(emulator.rootUrl, pw, [`${mine}:pull ${theirs}:pull,push`])).access).toHaveLength(1);
    expect((await realmToken(emulator.rootUrl, pw, [`${theirs}:pull,push`])).access).toEqual([]);
    const body = (await realmToken(emulator.rootUrl, pw, [])).body as Record<string, unknown>;
    expect(body).toEqual({ token: expect.any(String), access_token: body.token, expires_in: 300, issued_at: expect.any(String) });
  });

  it("refuses unknown passwords and other user names at the realm with 401", async () => {
    const project = await newProject();
    const pw = await password(project.projectId);
    expect((await realmToken(emulator.rootUrl, "not-a-password", [])).status).toBe(401);
    expect((await realmToken(emulator.rootUrl, pw, [], "someone")).status).toBe(401);
    const anonymous = await fetch(`${emulator.rootUrl}/_emulator/registry/token?service=htc-emulator-registry`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect((await fetch(`${emulator.rootUrl}/_emulator/registry/token`, { headers: { authorization: basic("AWS", "") } })).status).toBe(
      401,
    );
  });

  it("expires passwords after 12 hours of the emulator's clock", async () => {
    const project = await newProject();
    const pw = await password(project.projectId);
    const advance = (seconds: number) =>
      http(`${emulator.rootUrl}/_emulator/v1/clock`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ advanceSeconds: seconds }),
      });
    await advance(11 * 3600);
    expect((await realmToken(emulator.rootUrl, pw, [])).status).toBe(200);
    await advance(3600 + 1);
    const expired = await realmToken(emulator.rootUrl, pw, []);
    expect(expired.status).toBe(401);
    expect(JSON.stringify(expired.body)).toContain("expired");
  });

  it("lists no images in a new registry, and answers 404 HTCImageError for unknown images and projects", async () => {
    const project = await newProject();
    await createRepo(project.projectId, "solver");
    const images = await unwrap(
      client.api.GET("/htc/projects/{projectId}/container-registry/images", { params: { path: { projectId: project.projectId } } }),
    );
    expect(images).toEqual({ containerRegistry: project.containerRegistry, images: [] });
    const image = (projectId: string, imageName: string) =>
      client.api.GET("/htc/projects/{projectId}/container-registry/images/{imageName}", { params: { path: { projectId, imageName } } });
    for (const name of ["solver:v1", "solver", "never-created:v1", "team/tools/solver:v2"]) {
      const { response, error } = await image(project.projectId, name);
      expect(response.status, name).toBe(404);
      expect(error).toMatchObject({ errorType: "IMAGE_UNAVAILABLE", message: expect.stringContaining("unavailable") });
    }
    // Without a tag, `latest` is meant.
    expect((await image(project.projectId, "solver")).error).toMatchObject({ errorDescription: expect.stringContaining("solver:latest") });
    const unknownProject = await image("00000000-0000-4000-8000-000000000000", "solver:v1");
    expect(unknownProject.response.status).toBe(404);
    expect(unknownProject.error).toMatchObject({ errorType: "NOT_FOUND" });
    const malformed = await http(`${emulator.baseUrl}/htc/projects/${project.projectId}/container-registry/images/Solver:v1`, {
      headers: { Authorization: `Bearer ${await bearer()}` },
    });
    expect(malformed.status).toBe(400);
  });
});

describe("starting the emulator with and without a registry", () => {
  // No binary, and no engine to run a registry container on (a socket that does not exist).
  const nowhere = { env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" } };

  it("fails with what to do when --registry on finds neither the binary nor a Docker engine", async () => {
    const error = await spawnEmulator({ args: ["--strict", "--registry", "on", "--registry-bin", NO_REGISTRY_BIN], ...nowhere }).catch(
      (e: unknown) => e,
    );
    expect(String(error)).toContain(`${NO_REGISTRY_BIN} does not exist, and no Docker engine answers to run the registry in a container`);
    expect(String(error)).toContain("To turn the project registries on: ");
  });

  it("starts with the registry off when it cannot run or is turned off, and says so first, with the command that turns it on", async () => {
    const cases = [
      {
        args: ["--registry-bin", NO_REGISTRY_BIN],
        why: "does not exist, and no Docker engine answers",
        fix: /turn on: (sudo )?(bash scripts\/docker\/ensure-engine\.sh|apt-get install docker-registry|docker pull registry:2)/,
      },
      { args: ["--registry", "off"], why: "--registry off was given", fix: /turn on: start the emulator without --registry off/ },
    ];
    for (const { args, why, fix } of cases) {
      const emulator = await spawnEmulator({ args: ["--strict", "--executor", "simulated", ...args], ...nowhere });
      try {
        const { stdout } = emulator.output();
        expect(stdout).toMatch(/registry\s+off/);
        // The parts that are off come before anything else.
        expect(stdout.indexOf("registry  off: ")).toBeLessThan(stdout.indexOf("Rescale HTC emulator is running"));
        expect(stdout.split("\n")[0]).toMatch(/^2 parts are off:$/);
        expect(stdout).toContain(why);
        expect(stdout).toMatch(fix);
        const client = contractClient(emulator, { apiKey: emulator.apiKey });
        const project = await unwrap(client.api.POST("/htc/projects", { body: { projectName: "p", projectDescription: "" } }));
        const images = await unwrap(
          client.api.GET("/htc/projects/{projectId}/container-registry/images", { params: { path: { projectId: project.projectId } } }),
        );
        expect(images.images).toEqual([]);
      } finally {
        await emulator.stop();
      }
    }
  });
});
