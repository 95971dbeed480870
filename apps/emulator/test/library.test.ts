// The emulator embedded in a test suite: the vitest helper, isolation between emulators in one process, and a
// stop() that releases everything (server, timers, database, containers).
import { execFileSync } from "node:child_process";
import { requireMember, unwrap } from "@htcemu/client";
import { describe, expect, it } from "vitest";
import { startEmulator } from "../src/index.js";
import { detectDockerEngine } from "../src/jobs/docker-engine.js";
import { useEmulator } from "../src/testing/vitest.js";

const engine = await detectDockerEngine();

describe("useEmulator()", () => {
  const htc = useEmulator({ executor: "simulated", exportEnvironment: true });

  it("gives each suite a running emulator and a configured client", async () => {
    const whoami = await unwrap(htc.client.api.GET("/auth/whoami"));
    expect(whoami.user?.workspace?.id).toBe(htc.emulator.workspaceId);
    expect(process.env.HTC_BASE_URL).toBe(htc.baseUrl);
    expect(process.env.RESCALE_API_KEY).toBe(htc.apiKey);
  });
});

/** Handles Node keeps the process alive with, by kind (TCP servers, sockets, timers, child processes...). */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

describe("startEmulator()", () => {
  it("runs several emulators in one process without sharing state", async () => {
    const [a, b] = await Promise.all([startEmulator({ executor: "simulated" }), startEmulator({ executor: "simulated" })]);
    try {
      expect(a.port).not.toBe(b.port);
      const project = await unwrap(a.client.api.POST("/htc/projects", { body: { projectName: "only-in-a", projectDescription: "" } }));
      const inB = await b.client.api.GET("/htc/projects/{projectId}", {
        params: { path: { projectId: requireMember(project, "projectId") } },
      });
      expect(inB.response.status).toBe(404);
      const listB = await unwrap(b.client.api.GET("/htc/projects"));
      expect(listB.items).toEqual([]);
      // A token of one emulator means nothing to the other.
      const token = await unwrap(a.client.api.GET("/auth/token", { headers: { Authorization: `Token ${a.apiKey}` } }));
      const foreign = await fetch(`${b.baseUrl}/htc/projects`, {
        headers: { Authorization: `Bearer ${requireMember(token, "tokenValue")}` },
      });
      expect(foreign.status).toBe(401);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("releases every handle on stop()", async () => {
    // Warm up module loading and lazily created singletons first, so only the emulator's own handles count.
    await (await startEmulator({ executor: "simulated" })).stop();
    await new Promise((r) => setTimeout(r, 50));
    const before = activeResources();
    const emulator = await startEmulator({ executor: "simulated" });
    const project = await unwrap(emulator.client.api.POST("/htc/projects", { body: { projectName: "p", projectDescription: "" } }));
    const projectId = requireMember(project, "projectId");
    const task = await unwrap(
      emulator.client.api.POST("/htc/projects/{projectId}/tasks", {
        params: { path: { projectId } },
        body: { taskName: "t", taskDescription: "" },
      }),
    );
    await unwrap(
      emulator.client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: { projectId, taskId: requireMember(task, "taskId") } },
        body: [{ batchSize: 3, htcJobDefinition: { imageName: "x:1" } }],
      }),
    );
    await emulator.stop();
    await emulator.stop(); // twice is harmless
    await new Promise((r) => setTimeout(r, 50));
    const after = activeResources();
    for (const kind of ["TCPServerWrap", "TCPSocketWrap", "Timeout", "Immediate", "ProcessWrap"]) {
      expect(after[kind] ?? 0, kind).toBeLessThanOrEqual(before[kind] ?? 0);
    }
  });

  it.skipIf(!engine.ok)("stops the containers it started", async () => {
    const emulator = await startEmulator({ executor: "docker" });
    const instance = emulator.internals.core.db.prepare("SELECT value FROM meta WHERE key = 'instance_id'").get() as { value: string };
    const client = emulator.client;
    const project = await unwrap(client.api.POST("/htc/projects", { body: { projectName: "p", projectDescription: "" } }));
    const projectId = requireMember(project, "projectId");
    const task = await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks", { params: { path: { projectId } }, body: { taskName: "t", taskDescription: "" } }),
    );
    const ids = { projectId, taskId: requireMember(task, "taskId") };
    await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: ids },
        body: [{ batchSize: 2, htcJobDefinition: { imageName: "htcemu/shell:1", commands: ["sleep", "60"] } }],
      }),
    );
    const containers = () =>
      execFileSync("docker", ["ps", "-aq", "--filter", `label=org.htcemu.instance=${instance.value}`], { encoding: "utf8" }).trim();
    for (let i = 0; i < 100 && containers().split("\n").filter(Boolean).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(containers().split("\n").filter(Boolean)).toHaveLength(2);
    await emulator.stop();
    expect(containers()).toBe("");
  });
});
