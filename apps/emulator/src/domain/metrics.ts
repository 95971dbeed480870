// Prometheus metrics of a workspace: the counters (counters.ts), and gauges read from the database when
// scraped. Rendered in the text exposition format 0.0.4.
import type { Core } from "../core.js";
import { Counters, type Labels, labelText } from "./counters.js";
import { effectiveVcpuLimit } from "./limits.js";

interface Family {
  help: string;
  type: "counter" | "gauge";
  samples: { labels: Labels; value: number }[];
}

function gauges(s: MetricsDeps, workspaceId: string): Map<string, Family> {
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
  return families;
}

type MetricsDeps = Pick<Core, "repos" | "counters">;

export function renderMetrics(s: MetricsDeps, workspaceId: string): string {
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
