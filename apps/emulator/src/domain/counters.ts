// Counters of the metrics: incremented as the emulator works, kept in memory. Most are per workspace (each
// workspace's `GET /htc/metrics` shows its own); a few are emulator-wide (the admin API, fault injection): every
// workspace's metrics show them, and a reset leaves them alone, since they count what the emulator did, not state.

export type Labels = Record<string, string>;

/** A counter the emulator keeps: its help text, and the series shown (at 0) before anything counted them. */
interface CounterSpec {
  help: string;
  series: Labels[];
  /** `emulator`: one value for the whole emulator (see incEmulatorWide). */
  scope?: "emulator";
}

export class Counters {
  private readonly values = new Map<string, Map<string, number>>();
  private readonly emulatorValues = new Map<string, number>();

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
    htc_emulator_admin_requests_total: {
      help: "Requests answered by the emulator's admin API (emulator-wide), by operation and status code.",
      series: [],
      scope: "emulator",
    },
    htc_emulator_faults_injected_total: {
      help: "Faults injected by the emulator's fault rules (emulator-wide), by kind and rule.",
      series: [],
      scope: "emulator",
    },
  };

  inc(workspaceId: string, name: string, labels: Labels = {}, by = 1): void {
    this.incSeries(workspaceId, seriesKey(name, labels), by);
  }

  /** `inc` with the series named by `seriesKey(name, labels)`, for callers that count the same series often. */
  incSeries(workspaceId: string, series: string, by = 1): void {
    let family = this.values.get(workspaceId);
    if (!family) {
      family = new Map();
      this.values.set(workspaceId, family);
    }
    family.set(series, (family.get(series) ?? 0) + by);
  }

  /** Counts for the whole emulator (counters declared with scope `emulator`). */
  incEmulatorWide(name: string, labels: Labels = {}, by = 1): void {
    this.incEmulatorSeries(seriesKey(name, labels), by);
  }

  incEmulatorSeries(series: string, by = 1): void {
    this.emulatorValues.set(series, (this.emulatorValues.get(series) ?? 0) + by);
  }

  /** `name{labels}` → value: one workspace's counters and the emulator-wide ones. */
  of(workspaceId: string): Map<string, number> {
    return new Map([...this.emulatorValues, ...(this.values.get(workspaceId) ?? [])]);
  }

  /** Starts the workspace counters (of one workspace, or all) again; emulator-wide counters stay. */
  clear(workspaceId?: string): void {
    if (workspaceId === undefined) this.values.clear();
    else this.values.delete(workspaceId);
  }
}

/** How a series is named among the values: `name{labels}`. */
export function seriesKey(name: string, labels: Labels): string {
  return `${name}${labelText(labels)}`;
}

export function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')}"`).join(",")}}`;
}
