// `htc metrics get`: the workspace's Prometheus metrics (GET /htc/metrics, text/plain).
import { unwrap } from "@htcemu/client";
import type { Command } from "commander";
import { sessionOf } from "../context.js";

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function registerMetricsCommands(program: Command): void {
  const metrics = program.command("metrics").description("the workspace's Prometheus metrics");
  metrics
    .command("get", { isDefault: true })
    .description("print the metrics as the API exposes them (with --json: parsed samples)")
    .option("--filter <text>", "only metrics whose name contains this text")
    .action(async (opts: { filter?: string }, command: Command) => {
      const session = sessionOf(command);
      const text = await unwrap(session.client().api.GET("/htc/metrics", { parseAs: "text", signal: session.signal }));
      const keep = (name: string) => !opts.filter || name.includes(opts.filter);
      if (session.out.machine) {
        session.out.print(parseExposition(text).filter((s) => keep(s.name)));
        return;
      }
      for (const line of text.split("\n")) {
        if (!line) continue;
        const name = line.startsWith("#") ? (line.split(/\s+/)[2] ?? "") : (line.match(/^[^\s{]+/)?.[0] ?? "");
        if (keep(name)) session.out.line(line);
      }
    });
}

/** Parses the Prometheus text exposition format into samples (comments skipped). */
export function parseExposition(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const l of (match[3] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    samples.push({ name: match[1]!, labels, value: Number(match[4]) });
  }
  return samples;
}
