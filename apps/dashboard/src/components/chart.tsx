// The status chart of a task: how many jobs are in each status over time, one line per status, drawn by uPlot
// (a canvas chart of some 45 kB that redraws thousands of points in a few milliseconds) and updated in place as
// samples arrive.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { JOB_STATUSES } from "@htcemu/client";
import { type JobStatus, STATUS_COLOR, STATUS_LABEL } from "../lib/format.js";

export interface ChartPoint {
  /** Seconds since the epoch. */
  t: number;
  counts: Record<JobStatus, number>;
}

function columns(points: ChartPoint[]): uPlot.AlignedData {
  return [points.map((p) => p.t), ...JOB_STATUSES.map((s) => points.map((p) => p.counts[s]))] as uPlot.AlignedData;
}

export function StatusChart({ points, label }: { points: ChartPoint[]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current!;
    const options: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: 260,
      // The status legend with the figures is above the chart.
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // At least half a minute wide, ending now: a single sample would otherwise stretch the axis over years.
        x: { time: true, range: (_u, min, max) => [Math.min(min, max - 30), max] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.05)] },
      },
      axes: [{ stroke: "#4b5563" }, { stroke: "#4b5563", size: 60 }],
      series: [{}, ...JOB_STATUSES.map((s) => ({ label: STATUS_LABEL[s], stroke: STATUS_COLOR[s], width: 2, points: { show: false } }))],
    };
    plot.current = new uPlot(options, columns([]), el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(300, el.clientWidth), height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(columns(points));
  }, [points]);

  return <div class="chart" ref={box} role="img" aria-label={label} data-points={points.length} />;
}
