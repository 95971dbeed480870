// One project: its regions, vCPU limits and storage use, and its tasks (archive, reactivate, delete).
import { nextCursor, requireMember } from "@htcemu/client";
import type { components, Readable } from "@htcemu/client";
import { useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { admin, htc, ok } from "../api/connection.js";
import { ActionButton, Empty, ErrorBox, Loading, PageHeader, Section, ShortId } from "../components/ui.js";
import { bytes, count, time } from "../lib/format.js";
import { useInterval, useLoad } from "../lib/hooks.js";

type Task = Readable<components["schemas"]["HTCTask"]>;

export function ProjectView({ params }: { params: { ws: string; projectId: string } }) {
  const { ws, projectId } = params;
  const base = `/workspaces/${ws}/projects/${projectId}`;
  const project = useLoad(
    async () => ok((await htc(ws)).api.GET("/htc/projects/{projectId}", { params: { path: { projectId } } })),
    [ws, projectId],
  );
  const limits = useLoad(
    async () => ok((await htc(ws)).api.GET("/htc/projects/{projectId}/limits", { params: { path: { projectId } } })),
    [ws, projectId],
  );
  const usage = useLoad(() => ok(admin.api.GET("/storage/usage", { params: { query: { projectId } } })), [projectId]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const tasks = useLoad(async () => {
    const client = await htc(ws);
    return ok(
      client.api.GET("/htc/projects/{projectId}/tasks", {
        params: { path: { projectId }, query: { pageSize: 50, ...(cursor ? { pageIndex: cursor } : {}) } },
      }),
    );
  }, [ws, projectId, cursor]);
  useInterval(tasks.reload, 5000);

  if (project.error) {
    return (
      <>
        <PageHeader crumbs={[{ label: "Workspaces", href: "/" }]} title="Project" />
        <ErrorBox error={project.error} title="This project cannot be shown" />
        <Link href="/">Back to the workspaces</Link>
      </>
    );
  }
  const p = project.data;
  const shared = usage.data?.[0];
  const taskBytes = new Map((shared?.tasks ?? []).map((t) => [t.taskId, t.bytes]));
  return (
    <>
      <PageHeader
        crumbs={[{ label: "Workspaces", href: "/" }, { label: p?.projectName ?? projectId }]}
        title={p ? p.projectName : "Project"}
        actions={
          <>
            <Link class="btn plain" href={`${base}/storage`}>
              Storage
            </Link>
            <Link class="btn plain" href={`${base}/registry`}>
              Registry
            </Link>
          </>
        }
      />
      {!p && <Loading />}
      {p && (
        <div class="grid3">
          <Section title="Regions">
            <ul class="plain">
              {(p.regions ?? []).map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
            <p class="muted small">
              Created {time(p.createdAt)} · <ShortId id={p.projectId} />
            </p>
          </Section>
          <Section title="vCPU limits">
            <ErrorBox error={limits.error} />
            {limits.data && limits.data.length === 0 && <Empty>No project limits.</Empty>}
            <ul class="plain">
              {limits.data?.map((l) => (
                <li key={l.id}>
                  {l.modifierRole}: <b>{count(l.vCPUs)}</b> vCPUs
                </li>
              ))}
            </ul>
          </Section>
          <Section title="Storage use">
            {shared ? (
              <p>
                <b>{bytes(shared.total.bytes)}</b> in {count(shared.total.objects)} objects; shared folder {bytes(shared.shared.bytes)}
              </p>
            ) : (
              <Empty>Nothing stored.</Empty>
            )}
          </Section>
        </div>
      )}
      <Section title="Tasks">
        <ErrorBox error={tasks.error} />
        {tasks.data && (tasks.data.items ?? []).length === 0 && <Empty>No tasks.</Empty>}
        {tasks.data && (tasks.data.items ?? []).length > 0 && (
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Last active</th>
                <th scope="col" class="num">
                  Storage
                </th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {(tasks.data.items ?? []).map((t) => (
                <tr key={t.taskId}>
                  <td>
                    <Link href={`${base}/tasks/${t.taskId}`}>{t.taskName || t.taskId}</Link>
                    <div class="muted small">
                      <ShortId id={t.taskId} />
                    </div>
                  </td>
                  <td>
                    <span class={`lifecycle ${t.lifecycleStatus}`}>{t.lifecycleStatus}</span>
                  </td>
                  <td>{time(t.createdAt)}</td>
                  <td>{time(t.lastActiveAt)}</td>
                  <td class="num">{bytes((t.taskId && taskBytes.get(t.taskId)) || 0)}</td>
                  <td class="row-actions">
                    <TaskActions ws={ws} projectId={projectId} task={t} onDone={tasks.reload} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {!tasks.data && !tasks.error && <Loading />}
        <div class="pager">
          {cursor && (
            <button type="button" class="btn plain" onClick={() => setCursor(undefined)}>
              First page
            </button>
          )}
          {nextCursor(tasks.data?.next) && (
            <button type="button" class="btn plain" onClick={() => setCursor(nextCursor(tasks.data?.next))}>
              Next page
            </button>
          )}
        </div>
      </Section>
    </>
  );
}

/** Archive or reactivate, and delete: the API's answer decides (an archive with unfinished jobs is refused). */
export function TaskActions({ ws, projectId, task, onDone }: { ws: string; projectId: string; task: Task; onDone: () => void }) {
  const taskId = requireMember(task, "taskId", "the task");
  const setStatus = (lifecycleStatus: "ARCHIVED" | "ACTIVE") => async () =>
    ok(
      (await htc(ws)).api.PATCH("/htc/projects/{projectId}/tasks/{taskId}", {
        params: { path: { projectId, taskId } },
        body: { lifecycleStatus },
      }),
    );
  if (task.lifecycleStatus === "DELETED") return null;
  return (
    <>
      {task.lifecycleStatus === "ACTIVE" ? (
        <ActionButton action={setStatus("ARCHIVED")} onDone={onDone} label={`Archive task ${task.taskName}`}>
          Archive
        </ActionButton>
      ) : (
        <ActionButton action={setStatus("ACTIVE")} onDone={onDone} label={`Reactivate task ${task.taskName}`}>
          Reactivate
        </ActionButton>
      )}
      <ActionButton
        kind="danger"
        confirm={`Delete task ${task.taskName}? Its jobs are cancelled and its storage is removed.`}
        action={async () =>
          ok((await htc(ws)).api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: { projectId, taskId } } }))
        }
        onDone={onDone}
        label={`Delete task ${task.taskName}`}
      >
        Delete
      </ActionButton>
    </>
  );
}
