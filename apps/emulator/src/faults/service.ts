// The fault rules as the admin API manages them (admin/controls.ts): added, listed and removed, and the jobs a
// removed rule holds released: RUNNABLE jobs through the scheduler (a small interface of it, HeldJobs), jobs held
// in STARTING or RUNNING through the executor decorator. The rules themselves, the decisions and the injection
// log are the injector's (injector.ts), which the job side takes at construction; this service is built after
// the job side, from both.
import { type Clock, isoTime } from "../clock.js";
import type { adminComponents } from "../contract-types.js";
import type { FaultInjection, FaultInjector, RuleState } from "./injector.js";
import type { FaultRuleSpec } from "./rules.js";

export type FaultRuleView = adminComponents["schemas"]["FaultRule"];

/** What the fault service needs of the scheduler: the RUNNABLE jobs it keeps off its queues for a rule. */
export interface HeldJobs {
  /** Queues held jobs again, those `which` selects; returns them. */
  release(which: (seq: number, tag: string) => boolean): number[];
  /** The tag (rule id) a job is held with, if the scheduler still holds it. */
  heldTag(seq: number): string | undefined;
}

/** What the fault service needs of the executor decorator: the attempts it holds in STARTING or RUNNING. */
export interface HeldAttempts {
  /** Starts the held attempts of one rule (or of every rule) for real. */
  release(ruleId?: string): number;
  heldBy(ruleId: string): number;
}

export class FaultService {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly injector: FaultInjector,
    private readonly scheduler: HeldJobs,
    private readonly attempts: HeldAttempts | undefined,
    private readonly clock: Clock,
  ) {}

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  add(spec: FaultRuleSpec): FaultRuleView {
    const rule = this.injector.add(spec);
    // Holds with `forSeconds` end by the emulator's clock: watched while such a rule exists.
    if (this.injector.hasTimedRunnableRules) this.ensureTimer();
    return this.view(rule);
  }

  list(): FaultRuleView[] {
    return this.injector.all().map((r) => this.view(r));
  }

  get(id: string): FaultRuleView | undefined {
    const rule = this.injector.find(id);
    return rule ? this.view(rule) : undefined;
  }

  /** Removes a rule and releases the jobs it holds; undefined when there is no such rule. */
  remove(id: string): FaultRuleView | undefined {
    const rule = this.injector.find(id);
    if (!rule) return undefined;
    const view = this.view(rule);
    this.injector.remove((r) => r === rule);
    this.releaseHolds(id);
    this.injector.note(`fault rule ${id} removed (${rule.injected} injected)`);
    return { ...view, held: 0 };
  }

  clear(): FaultRuleView[] {
    const views = this.injector.all().map((r) => ({ ...this.view(r), held: 0 }));
    this.injector.remove(() => true);
    this.releaseHolds(undefined);
    return views;
  }

  /** The recent injections, oldest first. */
  injections(filter: { ruleId?: string | undefined; limit?: number | undefined } = {}): { items: FaultInjection[]; total: number } {
    return this.injector.injections(filter);
  }

  private view(rule: RuleState): FaultRuleView {
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

  /** Releases what one rule (or every rule) holds: RUNNABLE jobs in the scheduler, others in the decorator. */
  private releaseHolds(ruleId: string | undefined): void {
    const holds = this.injector.runnableHolds;
    for (const seq of this.scheduler.release((_seq, tag) => ruleId === undefined || tag === ruleId)) {
      const hold = holds.get(seq);
      if (hold) this.injector.unmarkStuck(seq, hold.reason);
      holds.delete(seq);
    }
    for (const [seq, hold] of holds) if (ruleId === undefined || hold.ruleId === ruleId) holds.delete(seq);
    this.attempts?.release(ruleId);
  }

  private heldBy(ruleId: string): number {
    let n = 0;
    const holds = this.injector.runnableHolds;
    for (const [seq, hold] of holds) {
      // Forget holds the scheduler dropped (the job was stepped, cancelled, reset or replaced).
      if (this.scheduler.heldTag(seq) !== hold.ruleId) holds.delete(seq);
      else if (hold.ruleId === ruleId) n++;
    }
    return n + (this.attempts?.heldBy(ruleId) ?? 0);
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.releaseExpired(), 25);
    this.timer.unref();
  }

  /** Releases RUNNABLE holds whose `forSeconds` passed (by the emulator's clock). */
  private releaseExpired(): void {
    const now = this.clock.now();
    const holds = this.injector.runnableHolds;
    const due = new Set<number>();
    let pending = false;
    for (const [seq, hold] of holds) {
      if (hold.until === undefined) continue;
      if (hold.until <= now) due.add(seq);
      else pending = true;
    }
    if (due.size) {
      for (const seq of this.scheduler.release((s) => due.has(s))) {
        const hold = holds.get(seq);
        if (hold) this.injector.unmarkStuck(seq, hold.reason);
      }
      for (const seq of due) holds.delete(seq);
    }
    if (!pending && !this.injector.hasTimedRunnableRules && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
