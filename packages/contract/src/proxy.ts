// A spec-checking reverse proxy (`@htcemu/contract/proxy`): every request is forwarded to the target unchanged
// and the target's answer is returned unchanged, byte for byte (proxy/forward.ts). Meanwhile copies of both
// bodies are validated against the contract in the background, and what differs is aggregated into a drift
// report (proxy/drift.ts), written as JSON plus a readable summary periodically and on stop (proxy/server.ts).
// Point a client at the proxy, the proxy at production (or the emulator), and read where the contract and the
// server disagree. `htc emulator proxy` is proxy/command.ts.
export { DEFAULT_DRIFT_REPORT, type ProxyCommandOptions, runProxyCommand } from "./proxy/command.js";
export type { DriftEntry, DriftReport, OperationReport, UnknownOperationReport } from "./proxy/drift.js";
export { forwardPath } from "./proxy/forward.js";
export { type ContractProxy, type ContractProxyOptions, startContractProxy } from "./proxy/server.js";
export { formatDriftSummary } from "./proxy/summary.js";
