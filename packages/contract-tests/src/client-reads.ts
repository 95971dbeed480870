// What the two official clients read from the API's answers without a default, so that a missing member (or a
// `null` where the client cannot take one) breaks them. From an audit of their public sources:
//   python - Rescale's Python client, rescale-labs/rescale-htc-python, src/rescalehtc/*.py (package rescalehtc
//            1.1.0): it indexes the parsed JSON with `json["member"]`, which raises KeyError when the member is
//            absent; `None` passes through unless the client then uses it (iterates it, compares it, formats it).
//   go-cli - the official command line, rescale-labs/htc-cli v2 (commands/, common/, config/, tabler/): its
//            generated decoder (ogen) leaves an absent optional member at its zero value, so absence shows up as
//            empty output or a broken follow-up call (an empty workspace id, an empty registry host), and it
//            rejects `null` in every member that the CLI's corrections (v2/api/swagger.jsonnet) do not declare
//            nullable, failing the whole answer.
// test/client-reads.test.ts checks every row against real answers of the target.

export type OfficialClient = "python" | "go-cli";

export interface ClientRead {
  readonly operationId: string;
  /**
   * Where in the answer: members joined by ".", `[]` for every item of an array, `[0]` for its first item (the
   * Python client only ever looks at the first batch of a submission).
   */
  readonly path: string;
  readonly client: OfficialClient;
  /** Where the client reads it. */
  readonly readBy: string;
  /** Whether the client copes with `null` there. */
  readonly nullOk: boolean;
}

const py = (operationId: string, paths: string[], readBy: string, nullOk = false): ClientRead[] =>
  paths.map((path) => ({ operationId, path, client: "python", readBy, nullOk }));
const go = (operationId: string, paths: string[], readBy: string, nullOk = false): ClientRead[] =>
  paths.map((path) => ({ operationId, path, client: "go-cli", readBy, nullOk }));

export const CLIENT_READS: readonly ClientRead[] = [
  // The Python client.
  ...py("getToken", ["tokenValue", "expiresIn"], "htcsession.HtcSession.do_authenticate, internals/authenticate.request_new_bearer_token"),
  ...py("whoAmI", ["user.workspace.name"], "scripts/rauthenticate.main (names the workspace's config folder)"),
  ...py("getTokenWhoAmI", ["userFullName", "userEmail", "workspaceName", "workspaceId"], "scripts/rauthenticate.main"),
  ...py("getTokenWhoAmI", ["organizationCode"], "scripts/rauthenticate.main (printed)", true),
  // A page without `items` is handed back whole instead of its list, which the callers then iterate.
  ...py("getProjects", ["items", "items[].projectName"], "internals/rest_helpers.api_get, htcprojects.get_project_with_name"),
  ...py(
    "getProject",
    ["projectId", "regions", "containerRegistry", "repositories"],
    "htcprojects.HtcProject, htcjobs.create_job_batch, container_registry.get_container_registry and get_repos",
  ),
  ...py("createTask", ["taskId", "projectId"], "htctasks.create_task_with_name → HtcTask.get_task_summary, cancel_jobs_in_task"),
  ...py("getTasks", ["items", "items[].taskName", "items[].lifecycleStatus", "items[].taskId"], "htctasks.get_tasks, get_tasks_with_name"),
  ...py("getTask", ["taskId", "projectId"], "htctasks.get_task_with_id → HtcTask"),
  ...py(
    "GetTaskStats",
    [
      "jobStatuses.SUBMITTED_TO_RESCALE",
      "jobStatuses.SUBMITTED_TO_PROVIDER",
      "jobStatuses.RUNNABLE",
      "jobStatuses.STARTING",
      "jobStatuses.RUNNING",
    ],
    "htctasks.HtcTask.get_task_summary (still_running)",
  ),
  ...py("getImages", ["images"], "container_registry.HtcContainerRegistry.get_images"),
  ...py("getImage", ["status"], "container_registry.is_image_ready, htcjobs.create_job_batch_raw (waits for READY)"),
  // The KeyError: to_jobs() copies `group` into every job, also when the batch has none.
  ...py("submitJobs", ["[0].group"], "htcjobs.HtcJobBatch.to_jobs", true),
  ...py(
    "submitJobs",
    ["[0].projectId", "[0].taskId", "[0].parentJobId", "[0].batchSize"],
    "htcjobs.HtcJobBatch.to_jobs, create_single_job",
  ),
  ...py(
    "getJobs",
    ["items", "items[].status", "items[].jobUUID", "items[].projectId", "items[].taskId"],
    "htcjobs.get_jobs → HtcJob.get_update",
  ),
  ...py("getJob", ["status", "jobUUID", "projectId", "taskId"], "htcjobs.HtcJob.get_update"),
  ...py("getLogs", ["items", "items[].message"], "htcjobs.HtcJob.get_logs, get_logs_to_file"),
  // The official Go CLI.
  ...go("getToken", ["tokenValue", "expiresIn"], "config.Config.SetToken (the token's validity)"),
  ...go(
    "whoAmI",
    ["user.email", "user.workspace.name", "user.workspace.id"],
    "config.Config.SetWhoAmI (the id is the {workspaceId} of every workspace command)",
  ),
  ...go(
    "getProjects",
    ["items[].projectId", "items[].projectName", "items[].projectDescription", "items[].createdAt"],
    "tabler.HTCProjects",
  ),
  ...go("getProject", ["containerRegistry"], "commands/image/common.getRegistry (docker login and push)"),
  ...go("getTasks", ["items[].taskId", "items[].taskName", "items[].createdAt", "items[].lastActiveAt"], "tabler.HTCTasks"),
  ...go("getTasks", ["items[].archivedAt"], "tabler.HTCTasks", true),
  ...go("GetTaskStats", ["jobStatuses"], "commands/task/stats.writeSummary"),
  ...go("getJobs", ["items[].jobUUID", "items[].createdAt", "items[].status"], "tabler.HTCJobs, commands/job/get (sorting)"),
  ...go("getJobs", ["items[].completedAt"], "tabler.HTCJobs, commands/job/get (sorting)", true),
  ...go("getJob", ["jobUUID", "createdAt", "status"], "tabler.HTCJob"),
  ...go("getEvents", ["items[].dateTime", "items[].status"], "tabler.HTCJobStatusEvents"),
  ...go("getLogs", ["items[].timestamp", "items[].message"], "commands/job/logs (logs -f compares timestamps)"),
  ...go("getImages", ["images"], "commands/image/get"),
];

/** Every value at `path` in `body`, with its concrete location; `undefined` where a member is absent. */
export function valuesAt(body: unknown, path: string): { at: string; value: unknown }[] {
  let current: { at: string; value: unknown }[] = [{ at: "", value: body }];
  for (const [, name, index] of path.matchAll(/([^.[\]]+)|\[(\d*)\]/g)) {
    const next: { at: string; value: unknown }[] = [];
    for (const { at, value } of current) {
      if (value === undefined || value === null) {
        // The parent is missing: so is what lies below it (reported at the parent).
        next.push({ at, value });
      } else if (name !== undefined) {
        const object = typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
        next.push({ at: `${at}.${name}`, value: Object.hasOwn(object, name) ? object[name] : undefined });
      } else if (Array.isArray(value)) {
        const items = index === "" ? value.map((item, i) => [i, item] as const) : [[Number(index), value[Number(index)]] as const];
        for (const [i, item] of items) next.push({ at: `${at}[${i}]`, value: item });
      } else {
        next.push({ at: `${at}[${index}]`, value: undefined });
      }
    }
    current = next;
  }
  return current.map(({ at, value }) => ({ at: at.replace(/^\./, ""), value }));
}
