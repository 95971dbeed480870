// Prometheus metrics of a workspace: counters the emulator increments as it works (kept per workspace, in
// memory), and gauges read from the database when scraped. Rendered in the text exposition format 0.0.4.
import type { Services } from "../services.js";
import { effectiveVcpuLimit } from "./limits.js";

type Labels = Record<string, string>;

interface Family {
  help: string;
  type: "counter" | "gauge";
  samples: { labels: Labels; value: number }[];
}

/** A counter the emulator keeps: its help text, and the series shown (at 0) before anything counted them. */
interface CounterSpec {
  help: string;
  series: Labels[];
}

/** Counters, per workspace. */
export class Counters {
  private readonly values = new Map<string, Map<string, number>>();

  /** Every counter that is incremented must be declared here: only declared counters are rendered. */
  static readonly declared: Record<string, CounterSpec> = {
    htc_api_requests_total: { help: "Requests answered by the HTC API, by operation and status code.", series: [] },
    htc_jobs_submitted_total: { help: "Jobs submitted (each job of a batch counts).", series: [{}] },
    htc_jobs_finished_total: {
      help: "Jobs that ended, by the status they ended in (jobs cancelled while queued count as FAILED).",
      series: [{ status: "SUCCEEDED" }, { status: "FAILED" }],
    },
    htc_tokens_issued_total: {
      help:
        "Bearer tokens issued, by kind: access (GET /auth/token with an API key, POST /oauth2/token) and job (given " +
        "to a job's container or by the admin API, or renewed with a job's refresh token). Refresh tokens are not counted.",
      series: [{ kind: "access" }, { kind: "job" }],
    },
  };

  inc(workspaceId: string, name: string, labels: Labels = {}, by = 1): void {
    let family = this.values.get(workspaceId);
    if (!family) {
      family = new Map();
      this.values.set(workspaceId, family);
    }
    const key = `${name}${labelText(labels)}`;
    family.set(key, (family.get(key) ?? 0) + by);
  }

  /** `name{labels}` → value, for one workspace. */
  of(workspaceId: string): Map<string, number> {
    return this.values.get(workspaceId) ?? new Map();
  }

  clear(workspaceId?: string): void {
    if (workspaceId === undefined) this.values.clear();
    else this.values.delete(workspaceId);
  }
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`).join(",")}}`;
}

function gauges(s: Services, workspaceId: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const projects = s.repos.projects.ofWorkspace(workspaceId);
  families.set("htc_projects", {
    help: "Projects of the workspace.",
    type: "gauge",
    samples: [{ labels: {}, value: projects.length }],
  });
  const limits: Family = { help: "The vCPU limit that applies to the jobs of a project.", type: "gauge", samples: [] };
  for (const project of projects) {
    const limit = effectiveVcpuLimit(s.repos, project);
    if (limit !== null) limits.samples.push({ labels: { project_name: project.name, project_id: project.id }, value: limit });
  }
  families.set("htc_job_limit_vcpus", limits);
  const tasks = s.repos.tasks.countsByStatus(workspaceId);
  families.set("htc_tasks", {
    help: "Tasks of the workspace, by lifecycle status.",
    type: "gauge",
    samples: (["ACTIVE", "ARCHIVED", "DELETED"] as const).map((status) => ({
      labels: { lifecycle_status: status },
      value: tasks.get(status) ?? 0,
    })),
  });
  for (const extra of s.metricSources) for (const [name, family] of extra(workspaceId)) families.set(name, family);
  return families;
}

export type MetricSource = (workspaceId: string) => Map<string, Family>;

export function renderMetrics(s: Services, workspaceId: string): string {
  const lines: string[] = [];
  for (const [name, family] of gauges(s, workspaceId)) {
    lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
    for (const sample of family.samples) lines.push(`${name}${labelText(sample.labels)} ${sample.value}`);
  }
  const counters = s.counters.of(workspaceId);
  for (const [name, spec] of Object.entries(Counters.declared)) {
    lines.push(`# HELP ${name} ${spec.help}`, `# TYPE ${name} counter`);
    const samples = new Map(spec.series.map((labels) => [`${name}${labelText(labels)}`, 0]));
    for (const [key, value] of counters) if (key === name || key.startsWith(`${name}{`)) samples.set(key, value);
    for (const [key, value] of samples) lines.push(`${key} ${value}`);
  }
  return `${lines.join("\n")}\n`;
}
