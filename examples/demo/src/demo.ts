// The example flow of the README: start an emulator, then use it exactly as production would be used, through
// the typed client: project, task, a batch of jobs, live progress, logs, statistics and clean-up.
// Run with `pnpm demo` (Docker jobs when an engine answers, simulated jobs otherwise).
import { collect, jobId, paginate, submitJobs, unwrap, waitForGroup } from "@htcemu/client";
import { offParts, offPartsBanner, startEmulator } from "@htcemu/emulator";

const step = (text: string) => console.log(`\n▶ ${text}`);

// The emulator's start-up lines wait until the parts that are off (and how to turn them on) have been printed:
// that comes first.
const startLines: string[] = [];
let log = (line: string): void => {
  startLines.push(line);
};
const emulator = await startEmulator({ log: (line) => log(line) }).catch((error: unknown) => {
  for (const line of startLines) console.log(`  [emulator] ${line}`);
  throw error;
});
process.stdout.write(offPartsBanner(await offParts(emulator)));
log = (line) => console.log(`  [emulator] ${line}`);
for (const line of startLines) log(line);
try {
  const htc = emulator.client;
  const executor = emulator.executor;
  console.log(`Emulator at ${emulator.baseUrl} (jobs run with the ${executor} executor)`);

  step("Who am I?");
  const me = await unwrap(htc.api.GET("/auth/whoami"));
  console.log(`  ${me.user.fullName} <${me.user.email}> in workspace ${me.user.workspace.name} (${me.user.workspace.id})`);

  step("Create a project and a task");
  const project = await unwrap(
    htc.api.POST("/htc/projects", { body: { projectName: "demo", projectDescription: "The README's example" } }),
  );
  const task = await unwrap(
    htc.api.POST("/htc/projects/{projectId}/tasks", {
      params: { path: { projectId: project.projectId } },
      body: { taskName: "squares", taskDescription: "" },
    }),
  );
  console.log(`  project ${project.projectId}, registry ${project.containerRegistry}`);
  console.log(`  task    ${task.taskId}, storage ${task.taskFolderPath}`);

  step("Submit 20 jobs in one batch: each squares its array index");
  const ids = { projectId: project.projectId, taskId: task.taskId };
  const submitted = await submitJobs(htc, {
    ...ids,
    group: "squares",
    count: 20,
    template: {
      htcJobDefinition: {
        imageName: "htcemu/shell:1",
        commands: ["sh", "-c", 'echo "square of $AWS_BATCH_JOB_ARRAY_INDEX is $((AWS_BATCH_JOB_ARRAY_INDEX * AWS_BATCH_JOB_ARRAY_INDEX))"'],
        maxVCpus: 1,
        maxMemory: 64,
        execTimeoutSeconds: 300,
      },
    },
  });
  console.log(`  batch ${submitted.batches[0]!.parentJobId} with ${submitted.totalJobs} jobs`);

  step("Watch the group until every job has finished");
  const summary = await waitForGroup(htc, {
    ...ids,
    group: "squares",
    intervalMs: 250,
    timeoutMs: 300_000,
    onProgress: (s) => console.log(`  ${s.succeeded} succeeded, ${s.failed} failed, ${s.active} active of ${s.total}`),
  });

  step("Read the logs of job 7");
  const logs = await unwrap(
    htc.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", {
      params: { path: { ...ids, jobId: jobId(submitted.batches[0]!.parentJobId, 7) }, query: { sort: "asc" } },
    }),
  );
  for (const line of logs.items) console.log(`  ${line.timestamp}  ${line.message}`);

  step("List the jobs with their status");
  const jobs = await collect(
    paginate(
      htc,
      "/htc/projects/{projectId}/tasks/{taskId}/jobs",
      { params: { path: ids, query: { viewType: "SIMPLE" } } },
      { pageSize: 10 },
    ),
  );
  for (const job of jobs.slice(0, 5)) console.log(`  ${job.jobUUID}  ${job.status}  ${job.statusReason ?? ""}`);
  console.log(`  … ${jobs.length} jobs in all`);

  step("Delete the task");
  const deleted = await unwrap(htc.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids } }));
  console.log(`  ${deleted.lifecycleStatus} at ${deleted.deletedAt}`);

  if (summary.failed > 0) throw new Error(`${summary.failed} job(s) failed`);
  console.log("\nDone: every job succeeded.");
} finally {
  await emulator.stop();
}
