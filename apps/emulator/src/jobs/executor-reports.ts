// What executors report (running, output lines, the end of an attempt) arrives from their own callbacks at any
// time. Reports wait here until the next scheduler tick records them inside its transaction, a bounded share per
// tick, so one transaction never holds the event loop (and the API) for long.
import type { JobRepository } from "../db/repositories/jobs.js";
import type { JobStateRepository } from "../db/repositories/job-states.js";
import type { ExecutorEvents, JobOutcome, LogLine } from "./executor.js";
import type { InFlight } from "./in-flight.js";

type Report =
  | { kind: "running"; seq: number; instanceId: string; at: number }
  | { kind: "log"; seq: number; lines: LogLine[] }
  | { kind: "finished"; seq: number; outcome: JobOutcome; at: number };

export interface ReportTargets {
  jobs: JobRepository;
  states: JobStateRepository;
  inFlight: InFlight;
  /** Whether reports of the job's attempt are to be dropped (its rows were deleted or replaced). */
  dropped(seq: number, finished: boolean): boolean;
  /** Records the end of an attempt. */
  end(seq: number, outcome: JobOutcome, at: number): void;
}

export class ExecutorReports {
  private inbox: Report[] = [];
  /** What executors call. */
  readonly events: ExecutorEvents;

  /** `arrived` is called after each report (the scheduler ticks soon); `accepting` is false once closed. */
  constructor(arrived: () => void, accepting: () => boolean) {
    const enqueue = (report: Report) => {
      if (!accepting()) return;
      this.inbox.push(report);
      arrived();
    };
    this.events = {
      running: (seq, info) => enqueue({ kind: "running", seq, instanceId: info.instanceId, at: info.at }),
      log: (seq, lines) => enqueue({ kind: "log", seq, lines }),
      finished: (seq, outcome, at) => enqueue({ kind: "finished", seq, outcome, at }),
    };
  }

  get waiting(): number {
    return this.inbox.length;
  }

  /** Records up to `limit` reports, oldest first, inside the caller's transaction. */
  apply(limit: number, to: ReportTargets): void {
    if (this.inbox.length === 0) return;
    const reports = this.inbox.length <= limit ? this.inbox : this.inbox.slice(0, limit);
    this.inbox = this.inbox.length <= limit ? [] : this.inbox.slice(limit);
    for (const report of reports) {
      if (to.dropped(report.seq, report.kind === "finished")) continue;
      if (report.kind === "running") {
        to.states.markRunning(report.seq, report.instanceId, report.at);
      } else if (report.kind === "log") {
        // Timestamps must be strictly increasing per job: followers print only lines newer than the last.
        const attempt = to.inFlight.get(report.seq);
        let last = attempt?.lastLogAt ?? to.jobs.lastLogAt(report.seq);
        for (const line of report.lines) {
          const at = Math.max(line.at, last + 1);
          to.jobs.insertLog(report.seq, at, line.stream === "stderr" ? 2 : 1, line.message);
          last = at;
        }
        if (attempt) attempt.lastLogAt = last;
      } else {
        to.end(report.seq, report.outcome, report.at);
      }
    }
  }
}
