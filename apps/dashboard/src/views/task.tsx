// One task: live status counts (in total and per group) from the emulator's statistics feed, a live chart of the
// counts over time, and the job table (filters by status, group and id; pages from the server, by submission
// time; fine with a million jobs: each page is one keyset query).
import { HtcApiError, JOB_STATUSES, nextCursor } from "@htcemu/client";
import type { components, Readable } from "@htcemu/client";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { adminBase, htc, ok } from "../api/connection.js";
import { follow } from "../api/sse.js";
import { type ChartPoint, StatusChart } from "../components/chart.js";
import { ActionButton, CountsBar, Empty, ErrorBox, Loading, PageHeader, Section, ShortId, StatusBadge } from "../components/ui.js";
import { count, type JobStatus, STATUS_LABEL, sum, time, unfinished } from "../lib/format.js";
import { useInterval, useLoad } from "../lib/hooks.js";
import { TaskActions } from "./project.js";

type Counts = Record<JobStatus, number>;
interface Sample {
  at: string;
  time: string;
  total: Counts;
  groups: { group: string; counts: Counts }[];
}
type Job = Readable<components["schemas"]["HTCJob"]>;

const PAGE_SIZE = 50;

/** The task's samples as they arrive from the live feed. */
function useStatistics(projectId: string, taskId: string) {
  const [samples, setSamples] = useState<Sample[]>([]);
  const [refused, setRefused] = useState<unknown>(undefined);
  const [live, setLive] = useState(false);
  useEffect(() => {
    setSamples([]);
    setRefused(undefined);
    return follow(`${adminBase}/live/projects/${projectId}/tasks/${taskId}/statistics?intervalMs=500`, {
      onOpen: () => setLive(true),
      onDrop: () => setLive(false),
      onEvent(e) {
        if (e.event === "history") setSamples(JSON.parse(e.data) as Sample[]);
        else if (e.event === "sample") setSamples((s) => [...s.slice(-719), JSON.parse(e.data) as Sample]);
      },
      onRefused(status, body) {
        setLive(false);
        setRefused(new HtcApiError({ status, body, request: { method: "GET", url: "" } }));
      },
    });
  }, [projectId, taskId]);
  return { samples, refused, live };
}

export function TaskView({ params }: { params: { ws: string; projectId: string; taskId: string } }) {
  const { ws, projectId, taskId } = params;
  const base = `/workspaces/${ws}/projects/${projectId}`;
  const task = useLoad(
    async () => ok((await htc(ws)).api.GET("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: { projectId, taskId } } })),
    [ws, projectId, taskId],
  );
  const { samples, refused, live } = useStatistics(projectId, taskId);
  const latest = samples.at(-1);
  // The feed sends a sample when the counts change: the last counts hold until now, so the lines reach the present.
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), 1000);
  const points: ChartPoint[] = useMemo(() => {
    const out = samples.map((s) => ({ t: Date.parse(s.time) / 1000, counts: s.total }));
    const last = out.at(-1);
    if (last && now / 1000 > last.t) out.push({ t: now / 1000, counts: last.counts });
    return out;
  }, [samples, now]);

  if (task.error) {
    return (
      <>
        <PageHeader
          crumbs={[
            { label: "Workspaces", href: "/" },
            { label: "Project", href: base },
          ]}
          title="Task"
        />
        <ErrorBox error={task.error} title="This task cannot be shown" />
        <Link href={base}>Back to the project</Link>
      </>
    );
  }
  const t = task.data;
  const cancel = (group?: string) => async () =>
    ok(
      (await htc(ws)).api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", {
        params: { path: { projectId, taskId }, query: group ? { group } : {} },
      }),
    );

  return (
    <>
      <PageHeader
        crumbs={[{ label: "Workspaces", href: "/" }, { label: "Project", href: base }, { label: t?.taskName ?? taskId }]}
        title={
          <>
            {t?.taskName ?? "Task"} {t && <span class={`lifecycle ${t.lifecycleStatus}`}>{t.lifecycleStatus}</span>}
          </>
        }
        actions={
          t && (
            <>
              <Link class="btn plain" href={`${base}/storage?task=${taskId}`}>
                Storage
              </Link>
              <ActionButton
                kind="danger"
                confirm="Cancel every unfinished job of this task?"
                action={cancel()}
                label="Cancel all unfinished jobs"
              >
                Cancel all
              </ActionButton>
              <TaskActions ws={ws} projectId={projectId} task={t} onDone={task.reload} />
            </>
          )
        }
      />
      <ErrorBox error={refused} title="The statistics feed was refused" />
      <Section
        title="Status"
        actions={
          <span class={`live ${live ? "on" : ""}`} aria-live="polite">
            {live ? "live" : "connecting…"}
          </span>
        }
      >
        {latest ? <CountsBar counts={latest.total} /> : <Loading />}
        <StatusChart
          points={points}
          label={
            latest
              ? `Job status counts over time; now ${JOB_STATUSES.map((s) => `${STATUS_LABEL[s]} ${latest.total[s]}`).join(", ")}`
              : "Job status counts over time"
          }
        />
      </Section>
      <Section title="Groups">
        {latest && latest.groups.length === 0 && <Empty>No job of this task belongs to a group.</Empty>}
        {latest && latest.groups.length > 0 && (
          <table class="table groups">
            <thead>
              <tr>
                <th scope="col">Group</th>
                {JOB_STATUSES.map((s) => (
                  <th scope="col" class="num" key={s}>
                    {STATUS_LABEL[s]}
                  </th>
                ))}
                <th scope="col" class="num">
                  Total
                </th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {latest.groups.map((g) => (
                <tr key={g.group} data-group={g.group}>
                  <th scope="row">{g.group}</th>
                  {JOB_STATUSES.map((s) => (
                    <td class="num" key={s} data-status={s}>
                      {count(g.counts[s])}
                    </td>
                  ))}
                  <td class="num">{count(sum(g.counts))}</td>
                  <td class="row-actions">
                    {unfinished(g.counts) > 0 && (
                      <ActionButton
                        kind="danger"
                        confirm={`Cancel the unfinished jobs of group ${g.group}?`}
                        action={cancel(g.group)}
                        label={`Cancel group ${g.group}`}
                      >
                        Cancel group
                      </ActionButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <JobTable ws={ws} projectId={projectId} taskId={taskId} latest={latest} />
    </>
  );
}

function JobTable({ ws, projectId, taskId, latest }: { ws: string; projectId: string; taskId: string; latest: Sample | undefined }) {
  const [status, setStatus] = useState<JobStatus | "">("");
  const [group, setGroup] = useState("");
  const [jobId, setJobId] = useState("");
  const [idInput, setIdInput] = useState("");
  // Cursors of the pages before the current one: "previous" pops, "next" pushes.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors.at(-1);
  const [elapsed, setElapsed] = useState<number | undefined>(undefined);

  const jobs = useLoad(async () => {
    const client = await htc(ws);
    const started = performance.now();
    const page = await ok(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", {
        params: {
          path: { projectId, taskId },
          query: {
            pageSize: PAGE_SIZE,
            viewType: "SIMPLE",
            ...(status ? { status } : {}),
            ...(group ? { group } : {}),
            ...(jobId ? { jobId: [jobId] } : {}),
            ...(cursor ? { pageIndex: cursor } : {}),
          },
        },
      }),
    );
    setElapsed(performance.now() - started);
    return page;
  }, [ws, projectId, taskId, status, group, jobId, cursor]);

  // Live: the shown page loads again when the counts change (at most every 2 s).
  const lastLoad = useRef(0);
  const reload = jobs.reload;
  useEffect(() => {
    if (!latest) return;
    const wait = Math.max(0, 2000 - (Date.now() - lastLoad.current));
    const timer = setTimeout(() => {
      lastLoad.current = Date.now();
      reload();
    }, wait);
    return () => clearTimeout(timer);
  }, [latest, reload]);

  const resetPages = () => setCursors([undefined]);
  const counts = group ? latest?.groups.find((g) => g.group === group)?.counts : latest?.total;
  const matching = jobId ? undefined : counts ? (status ? counts[status] : sum(counts)) : undefined;
  const pages = matching === undefined ? undefined : Math.max(1, Math.ceil(matching / PAGE_SIZE));
  const next = nextCursor(jobs.data?.next);

  return (
    <Section title="Jobs">
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setJobId(idInput.trim());
          resetPages();
        }}
      >
        <label for="job-status">
          Status
          <select
            id="job-status"
            value={status}
            onChange={(e) => {
              setStatus((e.currentTarget as HTMLSelectElement).value as JobStatus | "");
              resetPages();
            }}
          >
            <option value="">any</option>
            {JOB_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABEL[s]}
              </option>
            ))}
          </select>
        </label>
        <label for="job-group">
          Group
          <select
            id="job-group"
            value={group}
            onChange={(e) => {
              setGroup((e.currentTarget as HTMLSelectElement).value);
              resetPages();
            }}
          >
            <option value="">any</option>
            {latest?.groups.map((g) => (
              <option key={g.group} value={g.group}>
                {g.group}
              </option>
            ))}
          </select>
        </label>
        <label for="job-id">
          Job id
          <input
            id="job-id"
            type="search"
            placeholder="<parentJobId>:<index>"
            value={idInput}
            onInput={(e) => setIdInput((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="btn plain">
          Find
        </button>
      </form>
      <ErrorBox error={jobs.error} />
      {jobs.data && (jobs.data.items ?? []).length === 0 && <Empty>No job matches.</Empty>}
      {jobs.data && (jobs.data.items ?? []).length > 0 && (
        <table class="table jobs" aria-busy={jobs.loading}>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Group</th>
              <th scope="col">Status</th>
              <th scope="col">Submitted</th>
              <th scope="col">Started</th>
              <th scope="col">Completed</th>
              <th scope="col" class="num">
                Exit
              </th>
            </tr>
          </thead>
          <tbody>
            {((jobs.data.items ?? []) as Job[]).map((j) => (
              <tr key={j.jobUUID} data-status={j.status}>
                <td>
                  <Link href={`/workspaces/${ws}/projects/${projectId}/tasks/${taskId}/jobs/${encodeURIComponent(j.jobUUID ?? "")}`}>
                    <ShortId id={j.jobUUID} />
                  </Link>
                </td>
                <td>{j.group ?? "—"}</td>
                <td>
                  <StatusBadge status={j.status} />
                </td>
                <td>{time(j.createdAt)}</td>
                <td>{time(j.startedAt)}</td>
                <td>{time(j.completedAt)}</td>
                <td class="num">{j.container?.exitCode ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!jobs.data && !jobs.error && <Loading />}
      <nav class="pager" aria-label="Job pages">
        <button type="button" class="btn plain" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous
        </button>
        <span class="page-no" data-page={cursors.length}>
          Page {count(cursors.length)}
          {pages !== undefined ? ` of ${count(pages)}` : ""}
          {matching !== undefined ? ` · ${count(matching)} jobs` : ""}
          {elapsed !== undefined ? ` · ${Math.round(elapsed)} ms` : ""}
        </span>
        <button type="button" class="btn plain" disabled={!next} onClick={() => setCursors((c) => [...c, next])}>
          Next
        </button>
      </nav>
    </Section>
  );
}
