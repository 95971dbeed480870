// The request inspector: every request the emulator answered, live, with filters, one request's headers and
// bodies (secrets redacted by the emulator), and the export of what is shown as a HAR file.
import type { adminComponents } from "@htcemu/client/admin";
import { useEffect, useState } from "preact/hooks";
import { admin, adminBase, DASHBOARD_HEADERS, ok } from "../api/connection.js";
import { follow } from "../api/sse.js";
import { ActionButton, Empty, ErrorBox, Loading, PageHeader, Section } from "../components/ui.js";
import { saveAnswer } from "../lib/download.js";
import { duration, time } from "../lib/format.js";
import { useLoad } from "../lib/hooks.js";

type Summary = adminComponents["schemas"]["InspectedRequestSummary"];
type Detail = adminComponents["schemas"]["InspectedRequest"];
type Body = adminComponents["schemas"]["InspectedBody"];

interface Filters {
  method: string;
  status: string;
  operationId: string;
  path: string;
  dashboard: boolean;
}

const SHOWN = 500;

function query(f: Filters): Record<string, string> {
  const q: Record<string, string> = {};
  if (f.method) q.method = f.method;
  if (f.status) q.status = f.status;
  if (f.operationId) q.operationId = f.operationId;
  if (f.path) q.path = f.path;
  if (!f.dashboard) q.dashboard = "false";
  return q;
}

export function InspectorView() {
  const [filters, setFilters] = useState<Filters>({ method: "", status: "", operationId: "", path: "", dashboard: false });
  const [items, setItems] = useState<Summary[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const [paused, setPaused] = useState(false);
  const [selected, setSelected] = useState<number | undefined>(undefined);
  const state = useLoad(() => ok(admin.api.GET("/inspector")), []);
  const qs = new URLSearchParams(query(filters)).toString();

  useEffect(() => {
    if (paused) return;
    let stopped = false;
    let stop = () => {};
    setError(undefined);
    ok(admin.api.GET("/inspector/requests", { params: { query: { ...query(filters), limit: SHOWN } as never } })).then(
      (page) => {
        if (stopped) return;
        setItems(page.items);
        const last = page.items[0]?.id ?? page.recorded;
        // Live from the newest one shown: Last-Event-ID makes the feed send what came in between.
        stop = follow(`${adminBase}/inspector/stream${qs ? `?${qs}` : ""}`, {
          onEvent(e) {
            if (e.event !== "request") return;
            const entry = JSON.parse(e.data) as Summary;
            if (entry.id <= last) return;
            setItems((list) => [entry, ...list.filter((i) => i.id !== entry.id)].slice(0, SHOWN));
          },
        });
      },
      (e: unknown) => setError(e),
    );
    return () => {
      stopped = true;
      stop();
    };
  }, [qs, paused]);

  const exportHar = async () => {
    const response = await fetch(`${adminBase}/inspector/har${qs ? `?${qs}` : ""}`, { headers: DASHBOARD_HEADERS });
    if (!response.ok) await ok(Promise.resolve({ error: await response.json().catch(() => undefined), response }));
    await saveAnswer(response, "htc-emulator.har");
  };
  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));
  // What is typed in the text filters, applied on Enter or when the field is left (live updates re-render often).
  const [draft, setDraft] = useState({ operationId: "", path: "" });

  return (
    <>
      <PageHeader
        title="Request inspector"
        actions={
          <>
            <button type="button" class="btn plain" onClick={() => setPaused((p) => !p)} aria-pressed={paused}>
              {paused ? "Resume live" : "Pause live"}
            </button>
            <ActionButton action={exportHar}>Export HAR</ActionButton>
            <ActionButton
              kind="danger"
              action={async () => {
                await ok(admin.api.DELETE("/inspector/requests"));
                setItems([]);
                setSelected(undefined);
              }}
            >
              Clear
            </ActionButton>
          </>
        }
      />
      {state.data && (
        <p class="muted">
          Keeps the last {state.data.capacity} requests ({state.data.recorded} since start); bodies cut at {state.data.bodyLimit}{" "}
          characters; secrets redacted.
        </p>
      )}
      {state.data?.capacity === 0 && (
        <ErrorBox error={new Error("The inspector is off: the emulator was started with --inspector-size 0.")} />
      )}
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          set({ operationId: draft.operationId.trim(), path: draft.path.trim() });
        }}
      >
        <label>
          Method
          <select value={filters.method} onChange={(e) => set({ method: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">any</option>
            {["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].map((m) => (
              <option key={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={filters.status} onChange={(e) => set({ status: (e.currentTarget as HTMLSelectElement).value })}>
            <option value="">any</option>
            <option value="2xx">2xx</option>
            <option value="error">errors (400+)</option>
            <option value="4xx">4xx</option>
            <option value="5xx">5xx</option>
          </select>
        </label>
        <label>
          Operation
          <input
            value={draft.operationId}
            placeholder="submitJobs"
            onInput={(e) => setDraft({ ...draft, operationId: (e.currentTarget as HTMLInputElement).value })}
            onChange={() => set({ operationId: draft.operationId.trim() })}
          />
        </label>
        <label>
          Path contains
          <input
            value={draft.path}
            onInput={(e) => setDraft({ ...draft, path: (e.currentTarget as HTMLInputElement).value })}
            onChange={() => set({ path: draft.path.trim() })}
          />
        </label>
        <label class="inline">
          <input
            type="checkbox"
            checked={filters.dashboard}
            onChange={(e) => set({ dashboard: (e.currentTarget as HTMLInputElement).checked })}
          />{" "}
          The dashboard's own requests
        </label>
      </form>
      <ErrorBox error={error} />
      <div class="split">
        <Section title={`Requests (${items.length})`}>
          {items.length === 0 && <Empty>No request matches yet.</Empty>}
          {items.length > 0 && (
            <table class="table requests">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Method</th>
                  <th scope="col">Operation / path</th>
                  <th scope="col" class="num">
                    Status
                  </th>
                  <th scope="col" class="num">
                    Latency
                  </th>
                  <th scope="col">Caller</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr
                    key={r.id}
                    class={`${selected === r.id ? "selected" : ""} ${r.status >= 400 ? "failed" : ""}`}
                    data-operation={r.operationId ?? ""}
                    onClick={() => setSelected(r.id)}
                  >
                    <td>{time(r.startedAt).slice(11)}</td>
                    <td>{r.method}</td>
                    <td>
                      <button type="button" class="link" onClick={() => setSelected(r.id)}>
                        {r.operationId ?? r.api}
                      </button>
                      <div class="muted small path">{r.path}</div>
                      {r.violations.length > 0 && <span class="tag bad">{r.violations.length} contract violations</span>}
                      {r.fault && <span class="tag warn">fault {r.fault}</span>}
                    </td>
                    <td class={`num status-${Math.floor(r.status / 100)}xx`}>{r.status}</td>
                    <td class="num">{duration(r.durationMs)}</td>
                    <td class="small">{r.principal ? r.principal.email : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Section>
        <RequestDetail id={selected} />
      </div>
    </>
  );
}

function RequestDetail({ id }: { id: number | undefined }) {
  const detail = useLoad(
    async () =>
      id === undefined ? undefined : ok(admin.api.GET("/inspector/requests/{requestId}", { params: { path: { requestId: id } } })),
    [id],
  );
  if (id === undefined) {
    return (
      <Section title="Request">
        <Empty>Choose a request to see its headers and bodies.</Empty>
      </Section>
    );
  }
  const d = detail.data as Detail | undefined;
  return (
    <Section title={`Request #${id}`}>
      <ErrorBox error={detail.error} />
      {!d && !detail.error && <Loading />}
      {d && (
        <div class="detail">
          <p>
            <b>
              {d.method} {d.path}
              {d.query ? `?${d.query}` : ""}
            </b>
          </p>
          <dl class="facts">
            <dt>Operation</dt>
            <dd>{d.operationId ?? `(${d.api})`}</dd>
            <dt>Status</dt>
            <dd>{d.status}</dd>
            <dt>Latency</dt>
            <dd>
              {duration(d.durationMs)}
              {d.totalMs !== undefined ? ` (streamed for ${duration(d.totalMs)})` : ""}
            </dd>
            <dt>Caller</dt>
            <dd>
              {d.principal
                ? `${d.principal.email} (${d.principal.userId}, workspace ${d.principal.workspaceId})${d.principal.jobId ? `, job ${d.principal.jobId}` : ""}`
                : "—"}
            </dd>
            <dt>Received</dt>
            <dd>{time(d.startedAt)}</dd>
          </dl>
          {d.violations.length > 0 && (
            <div class="error" role="alert">
              <strong>--strict found the answer off-contract</strong>
              <ul>
                {d.violations.map((v, i) => (
                  <li key={i}>
                    {v.in} {v.pointer}: {v.message}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <h3>Request headers</h3>
          <Headers list={d.requestHeaders} />
          <h3>Request body</h3>
          <BodyView body={d.requestBody} />
          <h3>Response headers</h3>
          <Headers list={d.responseHeaders} />
          <h3>Response body</h3>
          <BodyView body={d.responseBody} />
        </div>
      )}
    </Section>
  );
}

function Headers({ list }: { list: { name: string; value: string }[] }) {
  if (list.length === 0) return <Empty>None.</Empty>;
  return (
    <table class="table headers">
      <tbody>
        {list.map((h, i) => (
          <tr key={i}>
            <th scope="row">{h.name}</th>
            <td>{h.value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function pretty(body: Body): string {
  if (body.text === undefined) return "";
  if (/json/.test(body.mimeType) && !body.truncated) {
    try {
      return JSON.stringify(JSON.parse(body.text), null, 2);
    } catch {
      return body.text;
    }
  }
  return body.text;
}

function BodyView({ body }: { body: Body | null | undefined }) {
  if (!body) return <Empty>None.</Empty>;
  return (
    <>
      <p class="muted small">
        {body.mimeType} · {body.size} {body.text === undefined ? "bytes" : "characters"}
        {body.truncated ? " · cut" : ""}
        {body.omitted ? ` · ${body.omitted}` : ""}
      </p>
      {body.text !== undefined && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
        <section class="body mono" tabIndex={0} aria-label="Body">
          {pretty(body)}
        </section>
      )}
    </>
  );
}
