// The monitoring chart: job counts per status over time, one line per status, as a self-contained SVG (the
// official tutorial plots the same samples with plotly). Also the samples as CSV.
import { JOB_STATUSES } from "@htcemu/client";

/** One line per status, in lifecycle order. */
export const STATUSES = JOB_STATUSES;

const COLORS: Record<string, string> = {
  SUBMITTED_TO_RESCALE: "#9e9e9e",
  SUBMITTED_TO_PROVIDER: "#795548",
  RUNNABLE: "#ff9800",
  STARTING: "#9c27b0",
  RUNNING: "#2196f3",
  SUCCEEDED: "#4caf50",
  FAILED: "#f44336",
};

export interface Sample {
  /** Seconds since the submission. */
  t: number;
  counts: Record<string, number>;
}

export function samplesCsv(samples: Sample[]): string {
  const header = ["seconds", ...STATUSES].join(",");
  const rows = samples.map((s) => [s.t.toFixed(2), ...STATUSES.map((status) => s.counts[status] ?? 0)].join(","));
  return `${[header, ...rows].join("\n")}\n`;
}

/** A "nice" step for about `count` ticks over `max`. */
function tickStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

function xml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function statusChart(samples: Sample[], title: string, subtitle: string): string {
  const width = 900;
  const height = 480;
  const margin = { left: 70, right: 230, top: 60, bottom: 55 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const maxT = Math.max(1, ...samples.map((s) => s.t));
  const maxY = Math.max(1, ...samples.flatMap((s) => STATUSES.map((status) => s.counts[status] ?? 0)));
  const xStep = tickStep(maxT, 8);
  const xMax = Math.ceil(maxT / xStep) * xStep;
  // A logarithmic count axis (log(1 + n)), as the official tutorial's plot has: the few jobs STARTING or RUNNING at
  // any moment stay visible next to the hundreds waiting or done.
  const yTop = Math.log10(1 + maxY);
  const x = (t: number) => margin.left + (t / xMax) * plotW;
  const y = (v: number) => margin.top + plotH - (Math.log10(1 + v) / yTop) * plotH;
  const yTicks = [0, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000].filter((v) => v <= maxY);
  if (maxY > 1.5 * (yTicks.at(-1) ?? 0)) yTicks.push(maxY);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${margin.left}" y="26" font-size="17" font-weight="bold">${xml(title)}</text>`);
  parts.push(`<text x="${margin.left}" y="45" fill="#555">${xml(subtitle)}</text>`);
  for (const v of yTicks) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e6e6e6"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#444">${v}</text>`);
  }
  for (let t = 0; t <= xMax + 1e-9; t += xStep) {
    parts.push(
      `<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 5}" stroke="#444"/>`,
    );
    parts.push(
      `<text x="${x(t).toFixed(1)}" y="${margin.top + plotH + 19}" text-anchor="middle" fill="#444">${Number(t.toFixed(1))}</text>`,
    );
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 12}" text-anchor="middle" fill="#222">seconds since submission</text>`);
  parts.push(
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#222">jobs (log scale)</text>`,
  );

  STATUSES.forEach((status, i) => {
    const points = samples.map((s) => `${x(s.t).toFixed(1)},${y(s.counts[status] ?? 0).toFixed(1)}`).join(" ");
    if (samples.length > 0) parts.push(`<polyline fill="none" stroke="${COLORS[status]}" stroke-width="2" points="${points}"/>`);
    const last = samples.at(-1)?.counts[status] ?? 0;
    const ly = margin.top + 10 + i * 22;
    parts.push(
      `<line x1="${width - margin.right + 20}" x2="${width - margin.right + 44}" y1="${ly}" y2="${ly}" stroke="${COLORS[status]}" stroke-width="3"/>`,
    );
    parts.push(`<text x="${width - margin.right + 50}" y="${ly + 4}">${status} (${last})</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
