// How values are shown: sizes, times, durations, job statuses and their colours (the statuses themselves, in
// lifecycle order, are the client's JOB_STATUSES).
import { JOB_STATUSES } from "@htcemu/client";

export type JobStatus = (typeof JOB_STATUSES)[number];

/** Short labels for the statuses (table headers, legends). */
export const STATUS_LABEL: Record<JobStatus, string> = {
  SUBMITTED_TO_RESCALE: "Submitted",
  SUBMITTED_TO_PROVIDER: "To provider",
  RUNNABLE: "Runnable",
  STARTING: "Starting",
  RUNNING: "Running",
  SUCCEEDED: "Succeeded",
  FAILED: "Failed",
};

/** Colours with enough contrast on white for text and lines. */
export const STATUS_COLOR: Record<JobStatus, string> = {
  SUBMITTED_TO_RESCALE: "#6b7280",
  SUBMITTED_TO_PROVIDER: "#7c5cbf",
  RUNNABLE: "#b45309",
  STARTING: "#0e7490",
  RUNNING: "#1d4ed8",
  SUCCEEDED: "#15803d",
  FAILED: "#b91c1c",
};

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function count(n: number): string {
  return n.toLocaleString("en-US");
}

/** `2024-03-10 16:15:50` in the browser's time zone (seconds are enough for jobs). */
export function time(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function duration(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The time between two instants, or until now while the second is missing. */
export function between(from: string | null | undefined, to: string | null | undefined): string {
  if (!from) return "—";
  const end = to ? Date.parse(to) : Date.now();
  return duration(Math.max(0, end - Date.parse(from)));
}

export function sum(counts: Partial<Record<JobStatus, number>>): number {
  return JOB_STATUSES.reduce((n, s) => n + (counts[s] ?? 0), 0);
}

/** Jobs that have not finished. */
export function unfinished(counts: Partial<Record<JobStatus, number>>): number {
  return sum(counts) - (counts.SUCCEEDED ?? 0) - (counts.FAILED ?? 0);
}
