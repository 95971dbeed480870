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

/** Counters, per workspace. */
export class Counters {
  private readonly values = new Map<string, Map<string, number>>();

  static readonly help: Record<string, string> = {
    htc_api_requests_total: "Requests answered by the HTC API, by operation and status code.",
    htc_tokens_issued_total: "Bearer tokens issued.",
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
  const projects = s.db
    .prepare("SELECT id, workspace_id, name FROM projects WHERE workspace_id = ? ORDER BY seq")
    .all(workspaceId) as { id: string; workspace_id: string; name: string }[];
  families.set("htc_projects", {
    help: "Projects of the workspace.",
    type: "gauge",
    samples: [{ labels: {}, value: projects.length }],
  });
  const limits: Family = { help: "The vCPU limit that applies to the jobs of a project.", type: "gauge", samples: [] };
  for (const project of projects) {
    const limit = effectiveVcpuLimit(s, project);
    if (limit !== null) limits.samples.push({ labels: { project_name: project.name, project_id: project.id }, value: limit });
  }
  families.set("htc_job_limit_vcpus", limits);
  const tasks = s.db
    .prepare("SELECT lifecycle_status AS status, COUNT(*) AS n FROM tasks WHERE workspace_id = ? GROUP BY lifecycle_status")
    .all(workspaceId) as { status: string; n: number }[];
  families.set("htc_tasks", {
    help: "Tasks of the workspace, by lifecycle status.",
    type: "gauge",
    samples: ["ACTIVE", "ARCHIVED", "DELETED"].map((status) => ({
      labels: { lifecycle_status: status },
      value: tasks.find((t) => t.status === status)?.n ?? 0,
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
  for (const [name, help] of Object.entries(Counters.help)) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const [key, value] of counters) if (key === name || key.startsWith(`${name}{`)) lines.push(`${key} ${value}`);
  }
  return `${lines.join("\n")}\n`;
}
