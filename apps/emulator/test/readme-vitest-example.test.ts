// The README's vitest example, verbatim (readme-examples.test.ts checks that the README still shows this file).
import { paginate, requireMember, submitJobs, unwrap, waitForGroup } from "@htcemu/client";
import { useEmulator } from "@htcemu/emulator/vitest";
import { expect, it } from "vitest";

const htc = useEmulator({ executor: "simulated", simulation: { successRatio: 1, duration: { minMs: 10, maxMs: 50 } } });

it("runs a sweep to the end", async () => {
  const { client } = htc; // a client already configured with the emulator's base URL and API key
  const project = await unwrap(client.api.POST("/htc/projects", { body: { projectName: "p", projectDescription: "" } }));
  // The types promise what production promises: response members are optional, so ask for the ones you need.
  const projectId = requireMember(project, "projectId");
  const task = await unwrap(
    client.api.POST("/htc/projects/{projectId}/tasks", { params: { path: { projectId } }, body: { taskName: "t", taskDescription: "" } }),
  );
  const ids = { projectId, taskId: requireMember(task, "taskId") };
  await submitJobs(client, { ...ids, group: "g", count: 50, template: { htcJobDefinition: { imageName: "any:1", commands: ["true"] } } });
  const done = await waitForGroup(client, { ...ids, group: "g", intervalMs: 100 });
  expect(done.succeeded).toBe(50);
  let n = 0;
  for await (const _job of paginate(client, "/htc/projects/{projectId}/tasks/{taskId}/jobs", { params: { path: ids } })) n++;
  expect(n).toBe(50);
});
