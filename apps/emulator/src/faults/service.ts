// The fault rules of one emulator: added, listed and removed through the admin API (admin/controls.ts),
// consulted by the API middleware (api-faults.ts), the scheduler (jobs held RUNNABLE) and the executor decorator
// (job-faults.ts). Every injected fault goes to the log (the emulator's log and a bounded in-memory list) and to
// the counter htc_emulator_faults_injected_total{kind,rule}, which every workspace's metrics show.
import { isoTime } from "../clock.js";
import type { SchedulerControls } from "../jobs/scheduler-controls.js";
import { JobStatus } from "../jobs/status.js";
import type { Services } from "../services.js";
import type { FaultyExecutor, JobFaultHit, JobFaultSource } from "./job-faults.js";
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

interface RuleState {
  spec: FaultRuleSpec & { id: string };
  createdAt: number;
  matched: number;
  injected: number;
  /** API rules: drawn once per matching request past `skip` (job rules draw per attempt, see rules.ts). */
  random: () => number;
}

export interface FaultInjection {
  seq: number;
  at: string;
  ruleId: string;
  kind: FaultKind;
  operation?: string;
  method?: string;
  path?: string;
  status?: number;
  projectId?: string;
  taskId?: string;
  jobId?: string;
  attempt?: number;
  detail: string;
}

type InjectionFields = Omit<FaultInjection, "seq" | "at" | "ruleId" | "kind">;

export class FaultRuleError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class FaultService implements JobFaultSource {
  private rules: RuleState[] = [];
  private readonly entries: FaultInjection[] = [];
  private total = 0;
  private nextId = 1;
  /** `kind \0 rule` → faults injected (never reset: a counter). */
  private readonly counted = new Map<string, number>();
  private scheduler: SchedulerControls | undefined;
  private executor: FaultyExecutor | undefined;
  /** Jobs held RUNNABLE: the rule, the reason shown, and when they are released on their own. */
  private readonly runnableHolds = new Map<number, { ruleId: string; reason: string; until: number | undefined }>();
  private timer: NodeJS.Timeout | undefined;
  /** Fast paths: which kinds of rule exist at all. */
  private apiRules = false;
  private hasStartRules = false;
  private hasRunnableRules = false;

  constructor(
    private readonly s: Services,
    private readonly emit: (line: string) => void = () => {},
  ) {
    s.metricSources.push(() => this.metricFamilies());
  }

  /** Connects the job side (see JobService): the scheduler holds RUNNABLE jobs, the decorator the others. */
  attach(scheduler: SchedulerControls, executor: FaultyExecutor | undefined): void {
    this.scheduler = scheduler;
    this.executor = executor;
  }

  /** Whether any API rule exists (requests skip the fault check otherwise). */
  get hasApiRules(): boolean {
    return this.apiRules;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  // --- rules ---------------------------------------------------------------------------------------------------

  add(spec: FaultRuleSpec): ReturnType<FaultService["view"]> {
    const id = spec.id ?? this.freshId();
    if (id === "log") throw new FaultRuleError("id", "'log' is reserved (GET /faults/log is the injection log)");
    if (this.rules.some((r) => r.spec.id === id)) throw new FaultRuleError("id", `is already used by another rule (${id})`);
    if (spec.job) {
      // Job attempts are not requests: matchesJob() has no operation or method to compare, so the rule would
      // fire on attempts the caller meant to exclude.
      for (const field of ["operations", "methods"] as const) {
        if (spec.match[field] !== undefined) {
          throw new FaultRuleError(`match.${field}`, "applies to API rules only; a job rule matches projectId, taskId, group, jobIndexes and attempts");
        }
      }
    }
    const rule: RuleState = { spec: { ...spec, id }, createdAt: this.s.clock.now(), matched: 0, injected: 0, random: mulberry32(spec.seed) };
    this.rules.push(rule);
    this.refreshKinds();
    this.emit(`fault rule ${id} added: ${JSON.stringify({ match: spec.match, api: spec.api, job: spec.job })}`);
    return this.view(rule);
  }

  list() {
    return this.rules.map((r) => this.view(r));
  }

  get(id: string) {
    const rule = this.rules.find((r) => r.spec.id === id);
    return rule ? this.view(rule) : undefined;
  }

  /** Removes a rule and releases the jobs it holds; undefined when there is no such rule. */
  remove(id: string) {
    const rule = this.rules.find((r) => r.spec.id === id);
    if (!rule) return undefined;
    const view = this.view(rule);
    this.rules = this.rules.filter((r) => r !== rule);
    this.refreshKinds();
    this.releaseHolds(id);
    this.emit(`fault rule ${id} removed (${rule.injected} injected)`);
    return { ...view, held: 0 };
  }

  clear() {
    const views = this.rules.map((r) => ({ ...this.view(r), held: 0 }));
    this.rules = [];
    this.refreshKinds();
    this.releaseHolds(undefined);
    return views;
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

  private view(rule: RuleState) {
    const { spec } = rule;
    return {
      id: spec.id,
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      match: spec.match,
      probability: spec.probability,
      seed: spec.seed,
      skip: spec.skip,
      times: spec.times,
      ...(spec.api ? { api: spec.api } : {}),
      ...(spec.job ? { job: spec.job } : {}),
      createdAt: isoTime(rule.createdAt),
      matched: rule.matched,
      injected: rule.injected,
      held: this.heldBy(spec.id),
      exhausted: spec.times !== null && rule.injected >= spec.times,
    };
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
    const key = `${kind}\u0000${rule.spec.id}`;
    this.counted.set(key, (this.counted.get(key) ?? 0) + 1);
    const where = fields.operation ? `${fields.method} ${fields.path} (${fields.operation})` : `job ${fields.jobId} attempt ${fields.attempt}`;
    this.emit(`fault ${rule.spec.id} injected ${kind} on ${where}: ${fields.detail}`);
  }

  private metricFamilies() {
    const samples = [...this.counted].map(([key, value]) => {
      const [kind, rule] = key.split("\u0000") as [string, string];
      return { labels: { kind, rule }, value };
    });
    return new Map([
      [
        FAULT_METRIC,
        { help: "Faults injected by the emulator's fault rules (emulator-wide), by kind and rule.", type: "counter" as const, samples },
      ],
    ]);
  }

  // --- API faults ----------------------------------------------------------------------------------------------

  /** The fault of a request of the HTC API, if a rule fires for it (and records it). */
  matchApi(request: ApiRequestFacts, path: string): { ruleId: string; fault: ApiFault } | undefined {
    if (!this.apiRules) return undefined;
    for (const rule of this.rules) {
      const fault = rule.spec.api;
      if (!fault || !matchesApi(rule.spec.match, request)) continue;
      if (!this.fires(rule, rule.random)) continue;
      const parts = [
        fault.latencyMs !== undefined ? `${fault.latencyMs} ms late` : "",
        fault.drop ? `connection dropped before the ${fault.drop === "request" ? "operation ran" : "answer"}` : "",
        fault.status !== undefined ? `answered ${fault.status}${fault.retryAfterSeconds !== undefined ? ` (Retry-After ${fault.retryAfterSeconds})` : ""}` : "",
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
    this.record(hit.rule, "job_stuck", this.jobFields(facts, `held in RUNNABLE${until === undefined ? "" : ` for ${hit.fault.forSeconds} s`}: ${reason}`));
    if (until !== undefined) this.ensureTimer();
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

  /** Releases what one rule (or every rule) holds: RUNNABLE jobs in the scheduler, others in the decorator. */
  private releaseHolds(ruleId: string | undefined): void {
    const released = this.scheduler?.release((_seq, tag) => ruleId === undefined || tag === ruleId) ?? [];
    for (const seq of released) {
      const hold = this.runnableHolds.get(seq);
      if (hold) this.unmarkStuck(seq, hold.reason);
      this.runnableHolds.delete(seq);
    }
    for (const [seq, hold] of this.runnableHolds) if (ruleId === undefined || hold.ruleId === ruleId) this.runnableHolds.delete(seq);
    this.executor?.release(ruleId);
  }

  private heldBy(ruleId: string): number {
    let n = 0;
    for (const [seq, hold] of this.runnableHolds) {
      // Forget holds the scheduler dropped (the job was stepped, cancelled, reset or replaced).
      if (this.scheduler?.heldTag(seq) !== hold.ruleId) this.runnableHolds.delete(seq);
      else if (hold.ruleId === ruleId) n++;
    }
    return n + (this.executor?.heldBy(ruleId) ?? 0);
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.releaseExpired(), 25);
    this.timer.unref();
  }

  /** Releases RUNNABLE holds whose `forSeconds` passed (by the emulator's clock). */
  private releaseExpired(): void {
    const now = this.s.clock.now();
    const due = new Set<number>();
    let pending = false;
    for (const [seq, hold] of this.runnableHolds) {
      if (hold.until === undefined) continue;
      if (hold.until <= now) due.add(seq);
      else pending = true;
    }
    if (due.size) {
      for (const seq of this.scheduler?.release((s) => due.has(s)) ?? []) {
        const hold = this.runnableHolds.get(seq);
        if (hold) this.unmarkStuck(seq, hold.reason);
      }
      for (const seq of due) this.runnableHolds.delete(seq);
    }
    if (!pending && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
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
