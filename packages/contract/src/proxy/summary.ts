// The drift report as text, for people: totals, one block per exercised operation with each difference and its
// count, then requests that matched no operation and operations no request reached.
import type { DriftReport } from "./drift.js";

/** The report as text: one block per operation (calls, statuses, each difference with its count), then unknown ones. */
export function formatDriftSummary(report: DriftReport): string {
  const lines: string[] = [];
  const { totals } = report;
  const operations = Object.values(report.operations).sort(
    (a, b) => b.callsWithDrift - a.callsWithDrift || a.operationId.localeCompare(b.operationId),
  );
  const drifting = operations.filter((o) => o.drift.length > 0);
  lines.push(`Contract drift report: ${report.target}`);
  lines.push(`contract ${report.contract.title} ${report.contract.version}, from ${report.startedAt} to ${report.updatedAt}`);
  lines.push(
    `${totals.requests} requests: ${totals.validated} validated, ${totals.withDrift} with drift (${totals.responseDrift} in the response: the server; ` +
      `${totals.requestDrift} in the request: the client), ${totals.unknownOperations} to unknown operations, ` +
      `${totals.outsideContract} outside the contract, ${totals.notValidated} too large to check, ${totals.upstreamErrors} upstream errors`,
  );
  lines.push(
    `${operations.length}/${report.contract.operations} operations exercised, ${drifting.length} with drift` +
      (drifting.length === 0 && operations.length > 0 ? ": the target matches the contract on everything seen" : ""),
  );
  for (const op of operations) {
    lines.push("");
    lines.push(
      `${op.operationId}  ${op.method} ${op.path}  ${op.calls} call(s) [${formatStatuses(op.statuses)}]${op.callsWithDrift ? `, ${op.callsWithDrift} with drift` : ", no drift"}`,
    );
    for (const entry of [...op.drift].sort((a, b) => b.count - a.count)) {
      const where = `${entry.phase}${entry.status === undefined ? "" : ` ${entry.status}`} ${entry.in}${entry.pointer}`;
      const value = entry.example.value === undefined ? "" : ` (got ${JSON.stringify(entry.example.value)})`;
      lines.push(`  ×${entry.count}  ${where}: ${entry.message}${value}  e.g. ${entry.example.method} ${entry.example.url}`);
    }
  }
  if (report.unknown.length > 0) {
    lines.push("");
    lines.push("Requests that match no operation of the contract:");
    for (const entry of [...report.unknown].sort((a, b) => b.count - a.count)) {
      lines.push(`  ×${entry.count}  ${entry.method} ${entry.path} [${formatStatuses(entry.statuses)}]`);
    }
  }
  if (report.notExercised.length > 0) {
    lines.push("");
    lines.push(`Not exercised (${report.notExercised.length}): ${report.notExercised.join(", ")}`);
  }
  return `${lines.join("\n")}\n`;
}

/** `{200: 3, 404: 1}` → `200×3 404×1`. */
function formatStatuses(statuses: Record<string, number>): string {
  return Object.entries(statuses)
    .map(([status, count]) => `${status}×${count}`)
    .join(" ");
}
