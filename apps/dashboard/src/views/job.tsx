// One job: its definition, its status events as a timeline (attempt by attempt), its outcome (exit code, failure
// code and reason) and its log, followed live from the emulator's log feed while the job runs.
import { collect, HtcApiError, isTerminalStatus, paginate } from "@htcemu/client";
import type { components, Readable } from "@htcemu/client";
import { useEffect, useRef, useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { adminBase, htc, ok } from "../api/connection.js";
import { follow } from "../api/sse.js";
import { ActionButton, Empty, ErrorBox, Loading, PageHeader, Section, StatusBadge } from "../components/ui.js";
import { between, time } from "../lib/format.js";
import { useLoad } from "../lib/hooks.js";

type Job = Readable<components["schemas"]["HTCJob"]>;
type JobEvent = Readable<components["schemas"]["RescaleJobStatusEvent"]>;

interface LogLine {
  timestamp: string;
  message: string;
  stream: "stdout" | "stderr";
}

/** Events split into attempts: each attempt starts at a STARTING event (the first also holds the queueing). */
function attemptsOf(events: JobEvent[]): JobEvent[][] {
  const attempts: JobEvent[][] = [[]];
  for (const e of events) {
    if (e.status === "STARTING" && attempts.at(-1)!.some((x) => x.status === "STARTING")) attempts.push([]);
    attempts.at(-1)!.push(e);
  }
  return attempts;
}

export function JobView({ params }: { params: { ws: string; projectId: string; taskId: string; jobId: string } }) {
  const { ws, projectId, taskId } = params;
  const jobId = decodeURIComponent(params.jobId);
  const taskHref = `/workspaces/${ws}/projects/${projectId}/tasks/${taskId}`;
  const path = { projectId, taskId, jobId };
  const job = useLoad(
    async () => ok((await htc(ws)).api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", { params: { path } })),
    [ws, jobId],
  );
  const events = useLoad(
    async () =>
      collect(
        paginate((await htc(ws)).api, "/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/events", { params: { path } }),
      ) as Promise<JobEvent[]>,
    [ws, jobId],
  );
  const reloadAll = () => {
    job.reload();
    events.reload();
  };

  if (job.error) {
    return (
      <>
        <PageHeader
          crumbs={[
            { label: "Workspaces", href: "/" },
            { label: "Task", href: taskHref },
          ]}
          title="Job"
        />
        <ErrorBox error={job.error} title="This job cannot be shown" />
        <Link href={taskHref}>Back to the task</Link>
      </>
    );
  }
  const j = job.data as Job | undefined;
  return (
    <>
      <PageHeader
        crumbs={[
          { label: "Workspaces", href: "/" },
          { label: "Project", href: `/workspaces/${ws}/projects/${projectId}` },
          { label: "Task", href: taskHref },
          { label: jobId },
        ]}
        title={
          <>
            Job <code class="big">{jobId}</code> {j && <StatusBadge status={j.status} />}
          </>
        }
        actions={
          j &&
          !isTerminalStatus(j.status) && (
            <ActionButton
              kind="danger"
              confirm="Cancel this job?"
              action={async () =>
                ok(
                  (await htc(ws)).api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/cancel", {
                    params: { path: { projectId, taskId }, query: { jobId: [jobId] } },
                  }),
                )
              }
              onDone={reloadAll}
            >
              Cancel job
            </ActionButton>
          )
        }
      />
      {!j && <Loading />}
      {j && (
        <div class="grid2">
          <Section title="Outcome">
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <StatusBadge status={j.status} /> {j.statusReason && <span class="muted">{j.statusReason}</span>}
              </dd>
              <dt>Exit code</dt>
              <dd data-testid="exit-code">{j.container?.exitCode ?? "—"}</dd>
              <dt>Failure</dt>
              <dd>{j.failureCode ? `${j.failureCode}${j.container?.reason ? `: ${j.container.reason}` : ""}` : "—"}</dd>
              <dt>Group</dt>
              <dd>{j.group ?? "—"}</dd>
              <dt>Region</dt>
              <dd>{j.region}</dd>
              <dt>Submitted</dt>
              <dd>{time(j.createdAt)}</dd>
              <dt>Ran</dt>
              <dd>
                {time(j.startedAt)} → {time(j.completedAt)} ({between(j.startedAt, j.completedAt)})
              </dd>
              <dt>Instance</dt>
              <dd>{j.instanceId ?? "—"}</dd>
            </dl>
          </Section>
          <Section title="Definition">
            <dl class="facts">
              <dt>Image</dt>
              <dd>
                <code>{j.imageName}</code>
              </dd>
              <dt>Command</dt>
              <dd>
                <code>{(j.commands ?? []).join(" ") || "(the image's)"}</code>
              </dd>
              <dt>Resources</dt>
              <dd>
                {j.maxVCpus} vCPU · {j.maxMemory} MiB · {j.architecture} · timeout {j.execTimeoutSeconds} s
              </dd>
              <dt>Environment</dt>
              <dd>
                {(j.envs ?? []).length === 0
                  ? "—"
                  : (j.envs ?? []).map((e) => (
                      <div key={e.name}>
                        <code>
                          {e.name}={e.value}
                        </code>
                      </div>
                    ))}
              </dd>
              <dt>Tags</dt>
              <dd>{(j.tags ?? []).map((t) => `${t.key}=${t.value}`).join(", ") || "—"}</dd>
            </dl>
          </Section>
        </div>
      )}
      {j && (
        <>
          <Section title="Events">
            <ErrorBox error={events.error} />
            {events.data && <Timeline events={events.data} />}
          </Section>
          <Logs ws={ws} projectId={projectId} taskId={taskId} jobId={jobId} onStatus={reloadAll} />
        </>
      )}
    </>
  );
}

function Timeline({ events }: { events: JobEvent[] }) {
  const attempts = attemptsOf(events);
  return (
    <div class="timeline">
      {attempts.map((attempt, i) => (
        <div key={i} class="attempt">
          <h3>Attempt {i + 1}</h3>
          <ol>
            {attempt.map((e) => (
              <li key={`${e.status}-${e.dateTime}`}>
                <time dateTime={e.dateTime}>{time(e.dateTime)}</time> <StatusBadge status={e.status} />
                {e.statusReason && <span class="muted"> {e.statusReason}</span>}
                {e.container?.exitCode !== undefined && e.container?.exitCode !== null && (
                  <span class="muted"> exit {e.container.exitCode}</span>
                )}
                {e.userCancelledEvent && <span class="muted"> (cancelled)</span>}
              </li>
            ))}
          </ol>
        </div>
      ))}
    </div>
  );
}

function Logs({
  projectId,
  taskId,
  jobId,
  onStatus,
}: {
  ws: string;
  projectId: string;
  taskId: string;
  jobId: string;
  onStatus: () => void;
}) {
  const [lines, setLines] = useState<LogLine[]>([]);
  const [state, setState] = useState<"connecting" | "following" | "ended">("connecting");
  const [refused, setRefused] = useState<unknown>(undefined);
  const [stick, setStick] = useState(true);
  const box = useRef<HTMLElement>(null);
  const statusSeen = useRef<string | undefined>(undefined);
  const notify = useRef(onStatus);
  notify.current = onStatus;

  useEffect(() => {
    setLines([]);
    setState("connecting");
    statusSeen.current = undefined;
    return follow(
      `${adminBase}/live/projects/${projectId}/tasks/${taskId}/jobs/${encodeURIComponent(jobId)}/logs`,
      {
        onOpen: () => setState("following"),
        onDrop: () => setState("connecting"),
        onEvent(e) {
          if (e.event === "line") setLines((l) => [...l, JSON.parse(e.data) as LogLine].slice(-20_000));
          else if (e.event === "status") {
            const { status } = JSON.parse(e.data) as { status: string };
            if (statusSeen.current !== undefined && statusSeen.current !== status) notify.current();
            statusSeen.current = status;
          } else if (e.event === "end") setState("ended");
        },
        onRefused: (status, body) => setRefused(new HtcApiError({ status, body, request: { method: "GET", url: "" } })),
      },
      { endEvent: "end" },
    );
  }, [projectId, taskId, jobId]);

  useEffect(() => {
    if (stick && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, stick]);

  return (
    <Section
      title="Log"
      actions={
        <span class="log-state">
          <span class={`live ${state === "following" ? "on" : ""}`}>
            {state === "following" ? "following" : state === "ended" ? "job finished" : "connecting…"}
          </span>
          <label class="inline">
            <input type="checkbox" checked={stick} onChange={(e) => setStick((e.currentTarget as HTMLInputElement).checked)} /> Follow
          </label>
        </span>
      }
    >
      <ErrorBox error={refused} title="The log feed was refused" />
      {lines.length === 0 && state !== "connecting" && (
        <Empty>{state === "ended" ? "The job wrote nothing." : "Nothing written yet."}</Empty>
      )}
      {lines.length > 0 && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        <section class="log mono" ref={box} tabIndex={0} aria-label="Job log">
          {lines.map((l, i) => (
            <div key={i} class={l.stream}>
              <span class="ts">{time(l.timestamp)}</span> {l.message}
            </div>
          ))}
        </section>
      )}
    </Section>
  );
}
