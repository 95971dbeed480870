// The scheduler's in-memory queues of job runs, and its vCPU accounting, on their own.
import { describe, expect, it } from "vitest";
import type { LimitReader } from "../../src/domain/vcpu-limits.js";
import { type Run, RunnableQueues, TaskQueues } from "../../src/jobs/queues.js";
import { Priority } from "../../src/jobs/status.js";
import { VcpuAccounting } from "../../src/jobs/vcpu-accounting.js";

const run = (taskSeq: number, from: number, to: number, more: Partial<Run> = {}): Run => ({
  taskSeq,
  batchSeq: taskSeq * 10,
  from,
  to,
  vcpus: 1,
  priority: Priority.ON_DEMAND_PRIORITY,
  projectId: `p${taskSeq}`,
  workspaceId: "w",
  ...more,
});

/** Takes `n` jobs, one at a time, as dispatch does. */
function take(queue: TaskQueues, n: number): number[] {
  const seqs: number[] = [];
  for (let i = 0; i < n; i++) {
    const next = queue.next();
    if (!next) break;
    seqs.push(next.from);
    queue.consume(next, 1);
  }
  return seqs;
}

describe("TaskQueues", () => {
  it("serves tasks round-robin, in the order they first queued", () => {
    const queue = new TaskQueues();
    queue.push(run(1, 100, 104));
    queue.push(run(2, 200, 202));
    queue.push(run(3, 300, 301));
    expect(take(queue, 10)).toEqual([100, 200, 300, 101, 201, 102, 103]);
    expect(queue.isEmpty).toBe(true);
    expect(queue.taskCount).toBe(0);
  });

  it("extends a run that continues the last one of its batch, and keeps other batches apart", () => {
    const queue = new TaskQueues();
    queue.push(run(1, 100, 102));
    queue.push(run(1, 102, 105));
    queue.push(run(1, 110, 111, { batchSeq: 11 }));
    const first = queue.next()!;
    expect([first.from, first.to]).toEqual([100, 105]);
    queue.consume(first, 5);
    expect(queue.next()).toMatchObject({ from: 110, to: 111, batchSeq: 11 });
  });

  it("takes several jobs of a run at once, and ignores empty runs", () => {
    const queue = new TaskQueues();
    queue.push(run(1, 5, 5));
    expect(queue.isEmpty).toBe(true);
    queue.push(run(1, 5, 9));
    const r = queue.next()!;
    queue.consume(r, 3);
    expect(queue.next()).toMatchObject({ from: 8, to: 9 });
  });

  it("puts a retry at the head of its task's queue", () => {
    const queue = new TaskQueues();
    queue.push(run(1, 100, 102));
    queue.pushFront(run(1, 42, 43));
    queue.pushFront(run(2, 7, 8));
    expect(take(queue, 5)).toEqual([42, 7, 100, 101]);
  });

  it("keeps the turn fair when a task is dropped or runs out before the cursor", () => {
    const queue = new TaskQueues();
    queue.push(run(1, 100, 101));
    queue.push(run(2, 200, 203));
    queue.push(run(3, 300, 303));
    expect(take(queue, 2)).toEqual([100, 200]);
    // Task 1 ran out; task 3's turn is next, then 2's.
    queue.dropTask(2);
    expect(take(queue, 5)).toEqual([300, 301, 302]);
    queue.push(run(4, 400, 401));
    queue.clear();
    expect(queue.next()).toBeUndefined();
  });
});

describe("RunnableQueues", () => {
  it("keeps on-demand and economy jobs apart, on-demand first", () => {
    const queues = new RunnableQueues();
    queues.push(run(1, 100, 102, { priority: Priority.ON_DEMAND_ECONOMY }));
    queues.push(run(1, 200, 201));
    queues.pushFront(run(2, 300, 301, { priority: Priority.ON_DEMAND_ECONOMY }));
    const [onDemand, economy] = queues.byPriority;
    expect(take(onDemand, 5)).toEqual([200]);
    expect(take(economy, 5)).toEqual([100, 300, 101]);
    queues.push(run(1, 500, 501));
    queues.dropTask(1);
    expect(onDemand.isEmpty).toBe(true);
  });
});

describe("VcpuAccounting", () => {
  function limitsOf(projects: Record<string, number[]>, workspaces: Record<string, number | null>): LimitReader {
    return {
      projects: { limits: (id) => (projects[id] ?? []).map((vcpus) => ({ vcpus }) as never) },
      identity: { workspace: (id) => ({ vcpu_limit: workspaces[id] ?? null }) as never },
    };
  }
  const a = { projectId: "a", workspaceId: "w" };
  const b = { projectId: "b", workspaceId: "w" };

  it("admits what the project's cap and the workspace's cap both allow", () => {
    const limits = { projects: { a: [6, 4] } as Record<string, number[]>, workspaces: { w: 5 } as Record<string, number | null> };
    const vcpus = new VcpuAccounting(limitsOf(limits.projects, limits.workspaces));
    expect(vcpus.admissible(a, 2, 10)).toBe(2); // project: min(6, 4) = 4
    vcpus.add(a, 4);
    expect(vcpus.admissible(a, 1, 10)).toBe(0);
    expect(vcpus.admissible(b, 1, 10)).toBe(1); // the workspace has 1 left
    vcpus.add(b, 1);
    expect(vcpus.admissible(b, 1, 10)).toBe(0);
    vcpus.release(a, 2);
    expect([vcpus.usageOf("a"), vcpus.workspaceUsageOf("w")]).toEqual([2, 3]);
    expect(vcpus.admissible(b, 2, 10)).toBe(1);
  });

  it("admits everything where nothing caps, and reads caps again after refreshCaps()", () => {
    const projects: Record<string, number[]> = {};
    const vcpus = new VcpuAccounting(limitsOf(projects, {}));
    expect(vcpus.admissible(a, 64, 1000)).toBe(1000);
    projects.a = [0];
    expect(vcpus.admissible(a, 1, 5)).toBe(5); // caps are read once per admission pass
    vcpus.refreshCaps();
    expect(vcpus.admissible(a, 1, 5)).toBe(0);
  });

  it("forgets a workspace's usage", () => {
    const vcpus = new VcpuAccounting(limitsOf({}, {}));
    vcpus.add(a, 3);
    vcpus.add({ projectId: "c", workspaceId: "v" }, 2);
    vcpus.forgetWorkspace("w", ["a"]);
    expect([vcpus.usageOf("a"), vcpus.workspaceUsageOf("w"), vcpus.usageOf("c")]).toEqual([0, 0, 2]);
    vcpus.clear();
    expect(vcpus.usageOf("c")).toBe(0);
  });
});
