// The observable state a bad request could change, read through the API: the project list, the fixture
// project (its limits, dimensions, retention, repositories, tasks) and task (its jobs, counts, groups), and the
// workspace (limit, dimensions, retention). Two snapshots are compared as JSON; the first differing read is named.
import { isDeepStrictEqual } from "node:util";

export interface SnapshotScope {
  readonly workspaceId?: string;
  readonly projectId?: string;
  readonly taskId?: string;
}

export type Snapshot = Record<string, { status: number; body: unknown }>;

/** Reads every list and object in scope with `get` (which adds credentials); volatile fields are left out. */
export async function takeSnapshot(
  get: (path: string) => Promise<{ status: number; body: unknown }>,
  scope: SnapshotScope,
): Promise<Snapshot> {
  const reads: string[] = ["/htc/projects?pageSize=10000"];
  if (scope.workspaceId) {
    const ws = `/htc/workspaces/${encodeURIComponent(scope.workspaceId)}`;
    reads.push(`${ws}/limits`, `${ws}/dimensions`, `${ws}/task-retention-policy`);
  }
  if (scope.projectId) {
    const p = `/htc/projects/${encodeURIComponent(scope.projectId)}`;
    reads.push(
      p,
      `${p}/limits`,
      `${p}/dimensions`,
      `${p}/task-retention-policy`,
      `${p}/tasks?pageSize=10000`,
      `${p}/container-registry/images`,
    );
    if (scope.taskId) {
      const t = `${p}/tasks/${encodeURIComponent(scope.taskId)}`;
      reads.push(
        t,
        `${t}/jobs?pageSize=10000`,
        `${t}/summary-statistics`,
        `${t}/group-summary-statistics?pageSize=10000`,
        `${t}/groups?pageSize=10000`,
      );
    }
  }
  const entries = await Promise.all(reads.map(async (path) => [path, await get(path)] as const));
  return Object.fromEntries(entries);
}

/** The reads that differ, with both values (cut), or an empty list. */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (isDeepStrictEqual(before[key], after[key])) continue;
    const show = (value: unknown) => {
      const text = JSON.stringify(value) ?? "undefined";
      return text.length > 300 ? `${text.slice(0, 300)}…` : text;
    };
    const [pointer, was, now] = firstDifference(before[key], after[key], "");
    out.push(`${key} at ${pointer || "/"}: ${show(was)} → ${show(now)}`);
  }
  return out;
}

/** The JSON pointer of the first place two values differ, with the values there. */
function firstDifference(a: unknown, b: unknown, at: string): [string, unknown, unknown] {
  if (isDeepStrictEqual(a, b)) return [at, a, b];
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (!isDeepStrictEqual(a[i], b[i]))
        return i < a.length && i < b.length ? firstDifference(a[i], b[i], `${at}/${i}`) : [`${at}/${i}`, a[i], b[i]];
    }
  }
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    for (const key of new Set([...Object.keys(x), ...Object.keys(y)])) {
      if (!isDeepStrictEqual(x[key], y[key]))
        return key in x && key in y ? firstDifference(x[key], y[key], `${at}/${key}`) : [`${at}/${key}`, x[key], y[key]];
    }
  }
  return [at, a, b];
}
