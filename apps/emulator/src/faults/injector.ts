// The fault rules in force and what they inject: consulted by the API wrapper (api-faults.ts), the scheduler
// (its `hold` hook keeps RUNNABLE jobs off the queues) and the executor decorator (job-faults.ts). Every injected
// fault goes to the log (the emulator's log and a bounded in-memory list) and to the emulator-wide counter
// htc_emulator_faults_injected_total{kind,rule}, which every workspace's metrics show. It needs nothing of the
// job side, so the job side can take it at construction; releasing held jobs (which needs the scheduler) is the
// fault service's part (service.ts).
import { isoTime } from "../clock.js";
import type { adminComponents } from "../contract-types.js";
import type { Core } from "../core.js";
import { JobStatus } from "../jobs/status.js";
import type { JobFaultHit, JobFaultSource } from "./job-faults.js";
import {
  type ApiFault,
  type ApiRequestFacts,
  apiKindOf,
  DEFAULT_STUCK_REASONS,
  type FaultKind,
  type FaultRuleSpec,
  type JobFacts,
  type JobFault,
  jobDraw,
  jobKindOf,
  matchesApi,
  matchesJob,
} from "./rules.js";
import { mulberry32 } from "../random.js";

export const FAULT_METRIC = "htc_emulator_faults_injected_total";
const LOG_LIMIT = 1000;

export interface RuleState {
  spec: FaultRuleSpec & { id: string };
  createdAt: number;
  matched: number;
  injected: number;
  /** API rules: drawn once per matching request past `skip` (job rules draw per attempt, see rules.ts). */
  random: () => number;
}

export type FaultInjection = adminComponents["schemas"]["FaultInjection"];

type InjectionFields = Omit<FaultInjection, "seq" | "at" | "ruleId" | "kind">;

/** A RUNNABLE job a `stuck` rule holds: the rule, the reason shown, and when it is released on its own. */
export interface RunnableHold {
  ruleId: string;
  reason: string;
  until: number | undefined;
}

export class FaultRuleError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class FaultInjector implements JobFaultSource {
  private rules: RuleState[] = [];
  private readonly entries: FaultInjection[] = [];
  private total = 0;
  private nextId = 1;
  /** Jobs held RUNNABLE (see holdRunnable); released by the fault service. */
  readonly runnableHolds = new Map<number, RunnableHold>();
  /** Fast paths: which kinds of rule exist at all. */
  private apiRules = false;
  private hasStartRules = false;
  private hasRunnableRules = false;

  constructor(
    private readonly s: Pick<Core, "repos" | "clock" | "counters">,
    private readonly emit: (line: string) => void = () => {},
  ) {}

  /** Whether any API rule exists (requests skip the fault check otherwise). */
  get hasApiRules(): boolean {
    return this.apiRules;
  }

  /** Whether a rule holds RUNNABLE jobs for a while (`stuck`, `forSeconds`): they are released by time. */
  get hasTimedRunnableRules(): boolean {
    return this.rules.some((r) => isRunnableStuck(r.spec.job) && r.spec.job?.forSeconds !== undefined);
  }

  // --- rules ---------------------------------------------------------------------------------------------------

  add(spec: FaultRuleSpec): RuleState {
    const id = spec.id ?? this.freshId();
    if (id === "log") throw new FaultRuleError("id", "'log' is reserved (GET /faults/log is the injection log)");
    if (this.rules.some((r) => r.spec.id === id)) throw new FaultRuleError("id", `is already used by another rule (${id})`);
    if (spec.job) {
      // Job attempts are not requests: matchesJob() has no operation or method to compare, so the rule would
      // fire on attempts the caller meant to exclude.
      for (const field of ["operations", "methods"] as const) {
        if (spec.match[field] !== undefined) {
          throw new FaultRuleError(
            `match.${field}`,
            "applies to API rules only; a job rule matches projectId, taskId, group, jobIndexes and attempts",
          );
        }
      }
    }
    const rule: RuleState = {
      spec: { ...spec, id },
      createdAt: this.s.clock.now(),
      matched: 0,
      injected: 0,
      random: mulberry32(spec.seed),
    };
    this.rules.push(rule);
    this.refreshKinds();
    this.emit(`fault rule ${id} added: ${JSON.stringify({ match: spec.match, api: spec.api, job: spec.job })}`);
    return rule;
  }

  all(): readonly RuleState[] {
    return this.rules;
  }

  find(id: string): RuleState | undefined {
    return this.rules.find((r) => r.spec.id === id);
  }

  /** Removes the rules `which` selects (the held jobs are the caller's to release); returns them. */
  remove(which: (rule: RuleState) => boolean): RuleState[] {
    const removed = this.rules.filter(which);
    this.rules = this.rules.filter((r) => !removed.includes(r));
    this.refreshKinds();
    return removed;
  }

  /** The recent injections, oldest first. */
  injections(filter: { ruleId?: string | undefined; limit?: number | undefined } = {}): { items: FaultInjection[]; total: number } {
    let items = filter.ruleId === undefined ? this.entries : this.entries.filter((e) => e.ruleId === filter.ruleId);
    if (filter.limit !== undefined && items.length > filter.limit) items = items.slice(items.length - filter.limit);
    return { items: [...items], total: this.total };
  }

  note(line: string): void {
    this.emit(line);
  }

  private freshId(): string {
    for (;;) {
      const id = `f${this.nextId++}`;
      if (!this.rules.some((r) => r.spec.id === id)) return id;
    }
  }

  private refreshKinds(): void {
    this.apiRules = this.rules.some((r) => r.spec.api);
    this.hasRunnableRules = this.rules.some((r) => isRunnableStuck(r.spec.job));
    this.hasStartRules = this.rules.some((r) => r.spec.job && !isRunnableStuck(r.spec.job));
  }

  /** Counts the match and draws: true when the rule fires. */
  private fires(rule: RuleState, draw: () => number): boolean {
    rule.matched++;
    if (rule.matched <= rule.spec.skip) return false;
    if (rule.spec.times !== null && rule.injected >= rule.spec.times) return false;
    return draw() < rule.spec.probability;
  }

  private record(rule: RuleState, kind: FaultKind, fields: InjectionFields): void {
    rule.injected++;
    this.total++;
    const entry: FaultInjection = { seq: this.total, at: isoTime(this.s.clock.now()), ruleId: rule.spec.id, kind, ...fields };
    this.entries.push(entry);
    if (this.entries.length > LOG_LIMIT) this.entries.splice(0, this.entries.length - LOG_LIMIT);
    this.s.counters.incEmulatorWide(FAULT_METRIC, { kind, rule: rule.spec.id });
    const where = fields.operation
      ? `${fields.method} ${fields.path} (${fields.operation})`
      : `job ${fields.jobId} attempt ${fields.attempt}`;
    this.emit(`fault ${rule.spec.id} injected ${kind} on ${where}: ${fields.detail}`);
  }

  // --- API faults ----------------------------------------------------------------------------------------------

  /** The fault of a request, if a rule fires for it (and records it). */
  matchApi(request: ApiRequestFacts, path: string): { ruleId: string; fault: ApiFault } | undefined {
    if (!this.apiRules) return undefined;
    for (const rule of this.rules) {
      const fault = rule.spec.api;
      if (!fault || !matchesApi(rule.spec.match, request)) continue;
      if (!this.fires(rule, rule.random)) continue;
      const parts = [
        fault.latencyMs !== undefined ? `${fault.latencyMs} ms late` : "",
        fault.drop ? `connection dropped before the ${fault.drop === "request" ? "operation ran" : "answer"}` : "",
        fault.status !== undefined
          ? `answered ${fault.status}${fault.retryAfterSeconds !== undefined ? ` (Retry-After ${fault.retryAfterSeconds})` : ""}`
          : "",
      ].filter(Boolean);
      this.record(rule, apiKindOf(fault), {
        operation: request.operation,
        method: request.method,
        path,
        ...(fault.status !== undefined ? { status: fault.status } : {}),
        ...(request.projectId !== undefined ? { projectId: request.projectId } : {}),
        ...(request.taskId !== undefined ? { taskId: request.taskId } : {}),
        detail: parts.join(", "),
      });
      return { ruleId: rule.spec.id, fault };
    }
    return undefined;
  }

  // --- job faults ----------------------------------------------------------------------------------------------

  private jobFacts(seq: number): JobFacts | undefined {
    const row = this.s.repos.jobStates.faultFacts(seq);
    if (!row) return undefined;
    const index = seq - row.first_job;
    return {
      seq,
      status: row.status,
      attempt: row.attempt,
      projectId: row.project_id,
      taskId: row.task_id,
      workspaceId: row.workspace_id,
      group: row.grp,
      index,
      jobId: `${row.parent_job_id}:${index}`,
      before: row.before,
    };
  }

  /** The first job rule of the phase that matches and fires. */
  private decide(facts: JobFacts, phase: "dispatch" | "start"): { rule: RuleState; fault: JobFault } | undefined {
    for (const rule of this.rules) {
      const fault = rule.spec.job;
      if (!fault || isRunnableStuck(fault) !== (phase === "dispatch")) continue;
      if (!matchesJob(rule.spec.match, facts)) continue;
      if (!this.fires(rule, () => jobDraw(rule.spec.seed, facts))) continue;
      return { rule, fault };
    }
    return undefined;
  }

  private jobFields(facts: JobFacts, detail: string): InjectionFields {
    return { projectId: facts.projectId, taskId: facts.taskId, jobId: facts.jobId, attempt: facts.attempt, detail };
  }

  /** The scheduler's `hold` hook: keeps a RUNNABLE job off the queues when a `stuck` RUNNABLE rule fires. */
  holdRunnable(seq: number): string | undefined {
    if (!this.hasRunnableRules) return undefined;
    const facts = this.jobFacts(seq);
    if (!facts || facts.status !== JobStatus.RUNNABLE) return undefined;
    const hit = this.decide(facts, "dispatch");
    if (!hit) return undefined;
    const now = this.s.clock.now();
    const reason = hit.fault.statusReason ?? DEFAULT_STUCK_REASONS.RUNNABLE;
    this.s.repos.jobStates.setWaitingReason(seq, reason, now);
    const until = hit.fault.forSeconds === undefined ? undefined : now + hit.fault.forSeconds * 1000;
    this.runnableHolds.set(seq, { ruleId: hit.rule.spec.id, reason, until });
    this.record(
      hit.rule,
      "job_stuck",
      this.jobFields(facts, `held in RUNNABLE${until === undefined ? "" : ` for ${hit.fault.forSeconds} s`}: ${reason}`),
    );
    return hit.rule.spec.id;
  }

  decideStart(seq: number): JobFaultHit | undefined {
    if (!this.hasStartRules) return undefined;
    const facts = this.jobFacts(seq);
    if (!facts) return undefined;
    const hit = this.decide(facts, "start");
    if (!hit) return undefined;
    this.record(hit.rule, jobKindOf(hit.fault), this.jobFields(facts, describeJobFault(hit.fault)));
    return { ruleId: hit.rule.spec.id, fault: hit.fault };
  }

  markStuck(seq: number, reason: string): void {
    this.s.repos.jobStates.setWaitingReason(seq, reason, this.s.clock.now());
  }

  unmarkStuck(seq: number, reason: string): void {
    this.s.repos.jobStates.clearWaitingReason(seq, reason, this.s.clock.now());
  }
}

function isRunnableStuck(fault: JobFault | undefined): boolean {
  return fault?.kind === "stuck" && (fault.status ?? "RUNNABLE") === "RUNNABLE";
}

function describeJobFault(fault: JobFault): string {
  const after = fault.afterSeconds ? `${fault.afterSeconds} s after RUNNING` : "once RUNNING";
  switch (fault.kind) {
    case "exitCode":
      return `exits with code ${fault.exitCode ?? 1} ${after}`;
    case "timeout":
      return `times out ${after}`;
    case "outOfMemory":
      return `is killed for memory ${after}`;
    case "vanish":
      return `loses its container ${after}`;
    case "imagePullFailure":
      return "cannot pull its image";
    case "stuck": {
      const status = fault.status ?? "RUNNABLE";
      return `held in ${status}${fault.forSeconds === undefined ? "" : ` for ${fault.forSeconds} s`}: ${fault.statusReason ?? DEFAULT_STUCK_REASONS[status]}`;
    }
  }
}
