// Small pieces every view uses: the API's error body when it refuses, buttons that run an action and show its
// error, status badges and count bars, page headers with a trail back, and empty states.
import { HtcApiError, JOB_STATUSES } from "@htcemu/client";
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { count, type JobStatus, STATUS_COLOR, STATUS_LABEL, sum } from "../lib/format.js";

/** What went wrong, with the API's own error body when the API refused. */
export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  if (error === undefined || error === null) return null;
  if (error instanceof HtcApiError) {
    return (
      <div class="error" role="alert">
        <strong>
          {title ?? "The API refused"}: {error.status}
          {error.errorType ? ` ${error.errorType}` : ""}
        </strong>
        {error.errorDescription && <p>{error.errorDescription}</p>}
        <pre class="error-body">{typeof error.body === "string" ? error.body : JSON.stringify(error.body, null, 2)}</pre>
      </div>
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div class="error" role="alert">
      <strong>{title ?? "Something went wrong"}</strong>
      <p>{message}</p>
    </div>
  );
}

/** A button that runs `action`; while it runs it is disabled, and a refusal is shown next to it. */
export function ActionButton(props: {
  action: () => Promise<unknown>;
  children: ComponentChildren;
  kind?: "primary" | "danger" | "plain";
  confirm?: string;
  label?: string;
  onDone?: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async () => {
    if (props.confirm && !window.confirm(props.confirm)) return;
    setBusy(true);
    setError(undefined);
    try {
      await props.action();
      props.onDone?.();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button type="button" class={`btn ${props.kind ?? "plain"}`} disabled={busy} onClick={run} aria-label={props.label}>
        {props.children}
      </button>
      {error !== undefined && <ErrorBox error={error} />}
    </span>
  );
}

export function StatusBadge({ status }: { status: string | null | undefined }) {
  // The contract does not promise a status in every answer.
  if (!status) return <span class="muted">—</span>;
  const color = STATUS_COLOR[status as JobStatus] ?? "#4b5563";
  return (
    <span class="badge" style={{ color, borderColor: color }}>
      {STATUS_LABEL[status as JobStatus] ?? status}
    </span>
  );
}

/** Counts per status as a stacked bar and figures. */
export function CountsBar({ counts }: { counts: Partial<Record<JobStatus, number>> }) {
  const total = sum(counts);
  return (
    <div class="counts">
      <div class="bar" role="img" aria-label={JOB_STATUSES.map((s) => `${STATUS_LABEL[s]} ${counts[s] ?? 0}`).join(", ")}>
        {total > 0 &&
          JOB_STATUSES.map((s) =>
            (counts[s] ?? 0) > 0 ? (
              <span key={s} style={{ width: `${((counts[s] ?? 0) / total) * 100}%`, background: STATUS_COLOR[s] }} />
            ) : null,
          )}
      </div>
      <ul class="legend">
        {JOB_STATUSES.map((s) => (
          <li key={s} data-status={s}>
            <i style={{ background: STATUS_COLOR[s] }} />
            {STATUS_LABEL[s]} <b>{count(counts[s] ?? 0)}</b>
          </li>
        ))}
        <li>
          Total <b>{count(total)}</b>
        </li>
      </ul>
    </div>
  );
}

export interface Crumb {
  label: string;
  href?: string;
}

export function PageHeader({ crumbs, title, actions }: { crumbs?: Crumb[]; title: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <header class="page-header">
      {crumbs && crumbs.length > 0 && (
        <nav aria-label="Breadcrumb" class="crumbs">
          {crumbs.map((c, i) => (
            <span key={i}>
              {c.href ? <Link href={c.href}>{c.label}</Link> : c.label}
              {i < crumbs.length - 1 && <span aria-hidden="true"> / </span>}
            </span>
          ))}
        </nav>
      )}
      <div class="title-row">
        <h1>{title}</h1>
        {actions && <div class="actions">{actions}</div>}
      </div>
    </header>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

export function Loading() {
  return (
    <p class="loading" aria-live="polite">
      Loading…
    </p>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card">
      <div class="card-head">
        <h2>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** Shortens an id for a table, keeping it whole for screen readers and as a tooltip. */
export function ShortId({ id }: { id: string | null | undefined }) {
  if (!id) return <span class="muted">—</span>;
  if (id.length <= 14) return <code>{id}</code>;
  return (
    <code title={id}>
      <span aria-hidden="true">
        {id.slice(0, 8)}…{id.slice(-6)}
      </span>
      <span class="sr-only">{id}</span>
    </code>
  );
}
