// The Docker executor against a real engine: real containers from the offline images (images/build.sh).
// Skipped, with the reason, only when no engine answers; CI installs one, so there the file always runs.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Dockerode from "dockerode";
import { afterAll, describe, expect, it } from "vitest";
import { describeEngine, detectDockerEngine, engineUnavailableMessage } from "../src/jobs/docker-engine.js";
import { DockerExecutor, type DockerExecutorOptions, LABELS } from "../src/jobs/docker-executor.js";
import type { ExecutorEvents, JobLaunch, JobOutcome, LogLine } from "../src/jobs/executor.js";
import { LogBatcher, LogLineSplitter, parseDockerTimestamp } from "../src/jobs/log-splitter.js";

const IMAGE = "htcemu/shell:1";
const docker = new Dockerode();
const engine = await detectDockerEngine(docker);
if (!engine.ok) console.warn(`docker-executor tests skipped: ${engine.reason}`);

/** Every instance id of this run starts with it, so the clean-up can find whatever a failed test left. */
const runId = `vt-${process.pid}-${Date.now().toString(36)}`;
let instances = 0;
const newInstanceId = () => `${runId}-${++instances}`;

type Event =
  | { kind: "running"; seq: number; instanceId: string; at: number }
  | { kind: "log"; seq: number; lines: LogLine[] }
  | { kind: "finished"; seq: number; outcome: JobOutcome; at: number };

/** Records events in order and lets a test wait for one. */
class Recorder implements ExecutorEvents {
  readonly events: Event[] = [];
  private waiters: { test: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];

  running(seq: number, info: { instanceId: string; at: number }): void {
    this.push({ kind: "running", seq, ...info });
  }
  log(seq: number, lines: LogLine[]): void {
    this.push({ kind: "log", seq, lines });
  }
  finished(seq: number, outcome: JobOutcome, at: number): void {
    this.push({ kind: "finished", seq, outcome, at });
  }

  private push(e: Event): void {
    this.events.push(e);
    const ready = this.waiters.filter((w) => w.test(e));
    this.waiters = this.waiters.filter((w) => !w.test(e));
    for (const w of ready) w.resolve(e);
  }

  next(test: (e: Event) => boolean, timeoutMs = 20_000): Promise<Event> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  async runningOf(seq: number) {
    return (await this.next((e) => e.kind === "running" && e.seq === seq)) as Extract<Event, { kind: "running" }>;
  }
  async finishedOf(seq: number, timeoutMs?: number) {
    return (await this.next((e) => e.kind === "finished" && e.seq === seq, timeoutMs)) as Extract<Event, { kind: "finished" }>;
  }
  linesOf(seq: number): LogLine[] {
    return this.events.flatMap((e) => (e.kind === "log" && e.seq === seq ? e.lines : []));
  }
  messagesOf(seq: number): string[] {
    return this.linesOf(seq).map((l) => l.message);
  }
  async waitForLine(seq: number, message: string): Promise<LogLine> {
    await this.next((e) => e.kind === "log" && e.seq === seq && e.lines.some((l) => l.message === message));
    return this.linesOf(seq).find((l) => l.message === message)!;
  }
}

class FakeClock {
  constructor(public t = Date.now()) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

function job(seq: number, over: Partial<JobLaunch> = {}): JobLaunch {
  return {
    seq,
    jobId: `batch-${seq}:0`,
    parentJobId: `batch-${seq}`,
    index: 0,
    attempt: 1,
    projectId: "proj",
    taskId: "task",
    workspaceId: "ws",
    imageName: IMAGE,
    image: IMAGE,
    commands: ["sh", "-c", "echo hi"],
    env: {},
    workingDir: null,
    vcpus: 1,
    memoryMiB: 256,
    execTimeoutSeconds: 3600,
    region: "AWS_US_EAST_1",
    ...over,
  };
}

const sh = (script: string) => ["sh", "-c", script];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function containersOf(instanceId: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${LABELS.instance}=${instanceId}`] } });
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > end) return v;
    await sleep(100);
  }
}

describe("log splitting (no engine needed)", () => {
  const frame = (ts: string, text: string) => Buffer.from(`${ts} ${text}`);

  it("parses Docker's RFC3339Nano prefixes", () => {
    expect(parseDockerTimestamp("2024-05-01T12:34:56.123456789Z hello")).toEqual({
      ms: Date.UTC(2024, 4, 1, 12, 34, 56, 123),
      ns: BigInt(Date.UTC(2024, 4, 1, 12, 34, 56)) * 1_000_000n + 123456789n,
      length: 31,
    });
    expect(parseDockerTimestamp("2024-05-01T12:34:56Z x")?.ms).toBe(Date.UTC(2024, 4, 1, 12, 34, 56));
    expect(parseDockerTimestamp("2024-05-01T14:34:56.5+02:00 x")?.ms).toBe(Date.UTC(2024, 4, 1, 12, 34, 56, 500));
    expect(parseDockerTimestamp("hello world")).toBeNull();
  });

  it("joins partial messages per stream, keeps the first part's time, and flushes a last line without newline", () => {
    const lines: LogLine[] = [];
    const s = new LogLineSplitter((l) => lines.push(l));
    s.frame("stdout", frame("2024-05-01T00:00:01.000000000Z", "a long li"));
    s.frame("stderr", frame("2024-05-01T00:00:02.000000000Z", "err\n"));
    s.frame("stdout", frame("2024-05-01T00:00:03.000000000Z", "ne\nnext\n"));
    // A UTF-8 character cut between two frames.
    const euro = Buffer.from("€\n");
    s.frame("stdout", Buffer.concat([Buffer.from("2024-05-01T00:00:04.000000000Z "), euro.subarray(0, 1)]));
    s.frame("stdout", Buffer.concat([Buffer.from("2024-05-01T00:00:05.000000000Z "), euro.subarray(1)]));
    s.frame("stderr", frame("2024-05-01T00:00:06.000000000Z", "no newline"));
    s.end();
    const t = (sec: number) => Date.UTC(2024, 4, 1, 0, 0, sec);
    expect(lines).toEqual([
      { at: t(2), stream: "stderr", message: "err" },
      { at: t(1), stream: "stdout", message: "a long line" },
      { at: t(3), stream: "stdout", message: "next" },
      { at: t(4), stream: "stdout", message: "€" },
      { at: t(6), stream: "stderr", message: "no newline" },
    ]);
  });

  it("drops lines at or before skipUntil (re-attaching)", () => {
    const lines: LogLine[] = [];
    const s = new LogLineSplitter((l) => lines.push(l), Date.UTC(2024, 4, 1, 0, 0, 2));
    s.frame("stdout", frame("2024-05-01T00:00:02.000000000Z", "old\n"));
    s.frame("stdout", frame("2024-05-01T00:00:02.001000000Z", "new\n"));
    expect(lines.map((l) => l.message)).toEqual(["new"]);
  });

  it("catches up after a follow: a second read repeats nothing and adds what the follow missed", () => {
    const lines: LogLine[] = [];
    const s = new LogLineSplitter((l) => lines.push(l));
    s.frame("stdout", frame("2024-05-01T00:00:01.000000001Z", "a\n"));
    s.frame("stdout", frame("2024-05-01T00:00:01.000000002Z", "b\n"));
    expect(s.catchUp()).toBe(`${Date.UTC(2024, 4, 1, 0, 0, 1) / 1000}.000000002`);
    for (const [ts, text] of [
      ["01.000000001", "a\n"],
      ["01.000000002", "b\n"],
      ["02.5", "tail"],
    ] as const) {
      s.frame("stdout", frame(`2024-05-01T00:00:${ts}Z`, text));
    }
    s.end();
    expect(lines.map((l) => l.message)).toEqual(["a", "b", "tail"]);
  });

  it("batches by count at once and by time otherwise", async () => {
    const batches: LogLine[][] = [];
    const b = new LogBatcher((l) => batches.push(l), 3, 50);
    const line = (message: string): LogLine => ({ at: 0, stream: "stdout", message });
    for (const m of ["1", "2", "3", "4"]) b.push(line(m));
    expect(batches.map((x) => x.length)).toEqual([3]);
    await sleep(120);
    expect(batches.map((x) => x.length)).toEqual([3, 1]);
  });

  it("explains a missing engine per platform", () => {
    const enoent = Object.assign(new Error("connect ENOENT /var/run/docker.sock"), { code: "ENOENT" });
    const linux = engineUnavailableMessage(enoent, "linux");
    expect(linux).toMatch(/install Docker Engine/);
    expect(linux).toMatch(/--executor simulated/);
    expect(engineUnavailableMessage(Object.assign(new Error("denied"), { code: "EACCES" }), "linux")).toMatch(/docker group/);
    expect(engineUnavailableMessage(enoent, "darwin")).toMatch(/Start Docker Desktop.*--executor simulated/s);
  });

  it("chooses the network by engine: host on Linux, bridge and host.docker.internal with Docker Desktop", async () => {
    const nowhere = new Dockerode({ socketPath: `/tmp/no-such-docker-${process.pid}.sock` });
    const make = (info: Record<string, unknown>, networkMode?: string) =>
      new DockerExecutor({
        docker: nowhere,
        events: new Recorder(),
        clock: Date,
        instanceId: "unit",
        engine: describeEngine(info),
        networkMode,
      });
    const desktop = make({ OperatingSystem: "Docker Desktop", NCPU: 4 });
    expect(desktop.networkMode).toBe("bridge");
    expect(desktop.hostAddressForContainers).toBe("host.docker.internal");
    expect(make({ OperatingSystem: "Docker Desktop" }, "none").hostAddressForContainers).toBe("127.0.0.1");
    if (process.platform === "linux") {
      const linux = make({ OperatingSystem: "Debian GNU/Linux 12 (bookworm)", NCPU: 2 });
      expect(linux.networkMode).toBe("host");
      expect(linux.hostAddressForContainers).toBe("127.0.0.1");
      expect(linux.capacityVcpus).toBeGreaterThanOrEqual(2);
    }
    await desktop.close("detach");
  });

  it("detectDockerEngine reports an engine that does not answer", async () => {
    const check = await detectDockerEngine(new Dockerode({ socketPath: `/tmp/no-such-docker-${process.pid}.sock` }));
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.reason).toMatch(/No Docker engine answers.*--executor simulated/s);
  });
});

describe.skipIf(!engine.ok)("DockerExecutor (real containers)", () => {
  const executors: DockerExecutor[] = [];
  function executor(over: Partial<DockerExecutorOptions> = {}): { ex: DockerExecutor; rec: Recorder; instanceId: string } {
    const rec = new Recorder();
    const instanceId = over.instanceId ?? newInstanceId();
    const ex = new DockerExecutor({
      docker,
      events: rec,
      clock: { now: () => Date.now() },
      instanceId,
      engine: engine.ok ? engine.info : undefined,
      ...over,
    });
    executors.push(ex);
    return { ex, rec, instanceId };
  }

  afterAll(async () => {
    await Promise.all(executors.map((ex) => ex.close("stop")));
    // Whatever a failed test left behind, and only ours.
    const all = await docker.listContainers({ all: true, filters: { label: [LABELS.instance] } });
    const ours = all.filter((c) => c.Labels[LABELS.instance]?.startsWith(runId));
    await Promise.all(
      ours.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => {}),
      ),
    );
  });

  it("runs a job: running, stdout and stderr lines in order with timestamps, then the exit", async () => {
    const { ex, rec } = executor();
    const t0 = Date.now();
    ex.start(job(1, { commands: sh("echo out1; sleep 0.05; echo err1 >&2; sleep 0.05; echo out2; sleep 0.05; printf 'no newline'") }));
    const done = await rec.finishedOf(1);
    expect(done.outcome).toEqual({ kind: "exited", exitCode: 0, oomKilled: false });
    const lines = rec.linesOf(1);
    expect(lines.map((l) => [l.stream, l.message])).toEqual([
      ["stdout", "out1"],
      ["stderr", "err1"],
      ["stdout", "out2"],
      ["stdout", "no newline"],
    ]);
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.at).toBeGreaterThanOrEqual(lines[i - 1]!.at);
    // Docker's own timestamps (the clock is real time here), not the time we happened to read them.
    expect(lines[0]!.at).toBeGreaterThanOrEqual(t0 - 1000);
    expect(lines[3]!.at - lines[0]!.at).toBeGreaterThanOrEqual(100);
    // running first, finished last, after every log call
    const kinds = rec.events.map((e) => e.kind);
    expect(kinds[0]).toBe("running");
    expect(kinds.at(-1)).toBe("finished");
    const running = rec.events[0] as Extract<Event, { kind: "running" }>;
    expect(running.instanceId).toMatch(/^[0-9a-f]{64}$/);
  });

  it("injects the environment and the working directory", async () => {
    const { ex, rec } = executor();
    ex.start(
      job(2, {
        env: { FOO: "bar baz", AWS_BATCH_JOB_ARRAY_INDEX: "7" },
        workingDir: "/tmp",
        commands: sh('echo "$FOO"; echo $AWS_BATCH_JOB_ARRAY_INDEX; pwd'),
      }),
    );
    expect((await rec.finishedOf(2)).outcome).toMatchObject({ kind: "exited", exitCode: 0 });
    expect(rec.messagesOf(2)).toEqual(["bar baz", "7", "/tmp"]);
  });

  it("labels the container and applies the limits", async () => {
    const { ex, rec, instanceId } = executor();
    ex.start(job(3, { attempt: 2, vcpus: 1, memoryMiB: 64, commands: sh("sleep 30") }));
    const running = await rec.runningOf(3);
    const info = await docker.getContainer(running.instanceId).inspect();
    expect(info.Config.Labels).toMatchObject({
      [LABELS.instance]: instanceId,
      [LABELS.seq]: "3",
      [LABELS.attempt]: "2",
      [LABELS.jobId]: "batch-3:0",
      [LABELS.projectId]: "proj",
      [LABELS.taskId]: "task",
    });
    expect(info.HostConfig.NetworkMode).toBe("host");
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.MemorySwap).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(1e9);
    expect(info.Name).toMatch(/^\/htcemu-.*-3-2$/);
    ex.cancel(3);
    await rec.finishedOf(3);
  });

  it("reports a non-zero exit code, and runs the image's own command when there is none", async () => {
    const { ex, rec } = executor();
    ex.start(job(4, { commands: sh("echo failing; exit 3") }));
    ex.start(job(5, { commands: [] })); // the shell image's CMD is `sh`, which ends at once without input
    expect((await rec.finishedOf(4)).outcome).toEqual({ kind: "exited", exitCode: 3, oomKilled: false });
    expect((await rec.finishedOf(5)).outcome).toEqual({ kind: "exited", exitCode: 0, oomKilled: false });
  });

  it("kills a job whose deadline passed by the emulator's clock", async () => {
    const clock = new FakeClock();
    const { ex, rec } = executor({ clock });
    ex.start(job(6, { execTimeoutSeconds: 60, commands: sh("echo started; sleep 30") }));
    const running = await rec.runningOf(6);
    expect(running.at).toBe(clock.t);
    await rec.waitForLine(6, "started");
    await sleep(300);
    expect(rec.events.some((e) => e.kind === "finished")).toBe(false); // not before the deadline
    clock.advance(61_000);
    const t = Date.now();
    const done = await rec.finishedOf(6, 20_000);
    expect(Date.now() - t).toBeLessThan(20_000); // far sooner than the job's own end
    expect(done.outcome).toEqual({ kind: "timeout", exitCode: 137 });
    expect(rec.messagesOf(6)).toEqual(["started"]);
  });

  it("cancels a running job", async () => {
    const { ex, rec } = executor();
    ex.start(job(7, { commands: sh("echo started; sleep 30") }));
    await rec.waitForLine(7, "started");
    const t = Date.now();
    ex.cancel(7);
    const done = await rec.finishedOf(7, 20_000);
    expect(Date.now() - t).toBeLessThan(20_000); // far sooner than `sleep 30`
    expect(done.outcome).toEqual({ kind: "cancelled", exitCode: 137 });
    ex.cancel(7); // ignored now
    ex.cancel(999); // unknown: ignored
  });

  it("cancels a job before it starts: it never runs and leaves no container", async () => {
    const { ex, rec, instanceId } = executor();
    ex.start(job(8, { commands: sh("echo should-not-run; sleep 30") }));
    ex.cancel(8);
    const done = await rec.finishedOf(8);
    expect(done.outcome).toEqual({ kind: "cancelled", exitCode: null });
    await sleep(500);
    expect(rec.events.map((e) => e.kind)).toEqual(["finished"]);
    expect(
      await eventually(
        () => containersOf(instanceId),
        (l) => l.length === 0,
      ),
    ).toEqual([]);
  });

  it("fails to start with a clear reason when the image is missing or cannot be pulled", async () => {
    const { ex, rec } = executor();
    ex.start(job(9, { image: "htcemu/no-such-image:1" }));
    // Names a registry (loopback, where nothing listens): a pull is tried and fails.
    ex.start(job(10, { image: "127.0.0.1:9/htcemu/no-such-image:1" }));
    const missing = (await rec.finishedOf(9)).outcome;
    expect(missing.kind).toBe("start-failed");
    expect(missing.kind === "start-failed" && missing.reason).toMatch(/^CannotPullContainerError: .*htcemu\/no-such-image:1/);
    const pull = (await rec.finishedOf(10)).outcome;
    expect(pull.kind).toBe("start-failed");
    expect(pull.kind === "start-failed" && pull.reason).toMatch(
      /^CannotPullContainerError: pulling image "127\.0\.0\.1:9\/htcemu\/no-such-image:1" failed/,
    );
    expect(rec.events.filter((e) => e.kind === "running")).toEqual([]);
  });

  // The engine on this kind of machine (containerd under a sandboxed kernel) sometimes never hears of an OOM kill,
  // more often under load; `docker inspect` then says OOMKilled false too. The executor can only report what the
  // engine saw, so these tests try a few times and require that the OOM is reported when the engine saw it.
  async function untilOom(ex: DockerExecutor, rec: Recorder, firstSeq: number, over: Partial<JobLaunch>, tries: number, exitCode: number) {
    const outcomes: JobOutcome[] = [];
    for (let i = 0; i < tries; i++) {
      ex.start(job(firstSeq + i, over));
      const { outcome } = await rec.finishedOf(firstSeq + i);
      outcomes.push(outcome);
      if (outcome.kind === "exited" && outcome.oomKilled && outcome.exitCode === exitCode) break;
    }
    return outcomes;
  }

  it("reports a job killed for memory as oomKilled", async () => {
    const { ex, rec } = executor();
    const outcomes = await untilOom(
      ex,
      rec,
      100,
      { memoryMiB: 6, commands: sh('x=$(head -c 50000000 /dev/zero | tr "\\0" x); echo unreachable') },
      5,
      137,
    );
    for (const o of outcomes) expect(o).toMatchObject({ kind: "exited", exitCode: 137 });
    expect(outcomes.at(-1)).toEqual({ kind: "exited", exitCode: 137, oomKilled: true });
  });

  it("reports oomKilled when only a child was killed and the job exits 0", async () => {
    const { ex, rec } = executor();
    const command = sh("dd if=/dev/zero bs=50M count=1 2>/dev/null | cat >/dev/null; echo survived");
    const outcomes = await untilOom(ex, rec, 200, { memoryMiB: 6, commands: command }, 8, 0);
    // The kernel may pick the shell instead of dd now and then (exit 137): what counts is the try that ended it.
    expect(outcomes.at(-1)).toEqual({ kind: "exited", exitCode: 0, oomKilled: true });
  });

  it("reports vanished when the container is removed from outside", async () => {
    const { ex, rec } = executor();
    ex.start(job(13, { commands: sh("echo started; sleep 30") }));
    const running = await rec.runningOf(13);
    await rec.waitForLine(13, "started");
    await docker.getContainer(running.instanceId).remove({ force: true });
    const done = await rec.finishedOf(13, 5000);
    expect(done.outcome.kind).toBe("vanished");
  });

  it("delivers many lines in order, in batches, and long lines whole", async () => {
    const { ex, rec } = executor();
    ex.start(job(14, { commands: sh("seq 1 3000; head -c 40000 /dev/zero | tr '\\0' a; echo") }));
    await rec.finishedOf(14);
    const messages = rec.messagesOf(14);
    expect(messages.length).toBe(3001);
    expect(messages.slice(0, 3000)).toEqual(Array.from({ length: 3000 }, (_, i) => String(i + 1)));
    expect(messages[3000]).toBe("a".repeat(40000));
    const batches = rec.events.filter((e) => e.kind === "log") as Extract<Event, { kind: "log" }>[];
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) expect(b.lines.length).toBeLessThanOrEqual(500);
  });

  it("re-attaches after a restart to a running job and reports its end", async () => {
    const a = executor();
    const j = job(15, { commands: sh("echo one; sleep 1; echo two; sleep 1.5; echo three; exit 4") });
    a.ex.start(j);
    const running = await a.rec.runningOf(15);
    await a.rec.waitForLine(15, "one");
    await a.ex.close("detach");
    expect((await docker.getContainer(running.instanceId).inspect()).State.Running).toBe(true);
    const eventsOfA = a.rec.events.length;

    const b = executor({ instanceId: a.instanceId });
    await b.ex.recover([j]);
    const done = await b.rec.finishedOf(15);
    expect(done.outcome).toEqual({ kind: "exited", exitCode: 4, oomKilled: false });
    // Followed from the re-attachment on: "one" is not repeated.
    expect(b.rec.messagesOf(15)).not.toContain("one");
    expect(b.rec.messagesOf(15)).toContain("three");
    expect((await b.rec.runningOf(15)).instanceId).toBe(running.instanceId);
    expect(a.rec.events.length).toBe(eventsOfA); // A said nothing after close()
    expect(
      await eventually(
        () => containersOf(a.instanceId),
        (l) => l.length === 0,
      ),
    ).toEqual([]);
  });

  it("re-attaches from the last stored log line when told it: nothing lost, nothing repeated", async () => {
    const a = executor();
    const j = job(16, { commands: sh("echo one; sleep 1; echo two; sleep 1; echo three") });
    a.ex.start(j);
    const one = await a.rec.waitForLine(16, "one");
    await a.ex.close("detach");
    await sleep(1300); // "two" is written while nobody follows
    const b = executor({ instanceId: a.instanceId });
    await b.ex.recover([j], { lastLogAt: (seq) => (seq === 16 ? one.at : undefined) });
    await b.rec.finishedOf(16);
    expect(b.rec.messagesOf(16)).toEqual(["two", "three"]);
  });

  it("reports a job that exited while the emulator was down, with its logs", async () => {
    const a = executor();
    const j = job(17, { commands: sh("echo done-while-down; exit 5") });
    a.ex.start(j);
    const running = await a.rec.runningOf(17);
    await a.ex.close("detach");
    await eventually(
      () => docker.getContainer(running.instanceId).inspect(),
      (i) => i.State.Status === "exited",
    );
    const b = executor({ instanceId: a.instanceId });
    await b.ex.recover([j]);
    // recover() resolves once such a job is reported
    const done = b.rec.events.find((e) => e.kind === "finished");
    expect(done).toMatchObject({ seq: 17, outcome: { kind: "exited", exitCode: 5, oomKilled: false } });
    expect(b.rec.messagesOf(17)).toEqual(["done-while-down"]);
    expect(b.rec.events.map((e) => e.kind)).toEqual(["running", "log", "finished"]);
    expect(
      await eventually(
        () => containersOf(a.instanceId),
        (l) => l.length === 0,
      ),
    ).toEqual([]);
  });

  it("on recover, reports vanished for a job without container and removes containers no job claims", async () => {
    const a = executor();
    a.ex.start(job(18, { commands: sh("sleep 30") }));
    await a.rec.runningOf(18);
    await a.ex.close("detach");
    // Another instance's container on the same engine must survive.
    const other = executor();
    other.ex.start(job(18, { commands: sh("sleep 30") }));
    const otherRunning = await other.rec.runningOf(18);

    const b = executor({ instanceId: a.instanceId });
    await b.ex.recover([job(19)]);
    const done = await b.rec.finishedOf(19);
    expect(done.outcome).toEqual({ kind: "vanished", reason: "the container was not found after a restart" });
    expect(await containersOf(a.instanceId)).toEqual([]);
    expect((await docker.getContainer(otherRunning.instanceId).inspect()).State.Running).toBe(true);
    other.ex.cancel(18);
    await other.rec.finishedOf(18);
  });

  it("on recover, starts a container that was created but not started before the restart", async () => {
    const instanceId = newInstanceId();
    const j = job(23, { commands: sh("echo from-created; exit 6") });
    const created = await docker.createContainer({
      Image: IMAGE,
      Cmd: j.commands,
      Labels: { [LABELS.instance]: instanceId, [LABELS.seq]: "23", [LABELS.attempt]: "1" },
      HostConfig: { NetworkMode: "none" },
    });
    const { ex, rec } = executor({ instanceId });
    await ex.recover([j]);
    expect((await rec.runningOf(23)).instanceId).toBe(created.id);
    expect((await rec.finishedOf(23)).outcome).toEqual({ kind: "exited", exitCode: 6, oomKilled: false });
    expect(rec.messagesOf(23)).toEqual(["from-created"]);
  });

  const registryBin = "/usr/bin/docker-registry";
  it.skipIf(!existsSync(registryBin))("pulls an image that names a registry (a local one), with the job's credentials", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const dir = await mkdtemp(join(tmpdir(), "htcemu-registry-"));
    await writeFile(
      join(dir, "config.yml"),
      `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`,
    );
    const registry = spawn(registryBin, ["serve", join(dir, "config.yml")], { stdio: "ignore" });
    const repo = `127.0.0.1:${port}/htcemu/pull-${runId}`;
    const auth = { username: "user", password: "secret", serveraddress: `127.0.0.1:${port}` };
    try {
      await eventually(
        () =>
          fetch(`http://127.0.0.1:${port}/v2/`).then(
            (r) => r.status,
            () => 0,
          ),
        (status) => status === 200,
      );
      await docker.getImage(IMAGE).tag({ repo, tag: "1" });
      const progress = await docker.getImage(`${repo}:1`).push({}, undefined, auth);
      await new Promise((resolve, reject) => docker.modem.followProgress(progress, (e: Error | null) => (e ? reject(e) : resolve(null))));
      await docker.getImage(`${repo}:1`).remove(); // only the tag goes: htcemu/shell:1 keeps the image
      const { ex, rec } = executor();
      ex.start(job(24, { image: `${repo}:1`, imageAuth: auth, commands: sh("echo pulled") }));
      expect((await rec.finishedOf(24)).outcome).toEqual({ kind: "exited", exitCode: 0, oomKilled: false });
      expect(rec.messagesOf(24)).toEqual(["pulled"]);
      expect((await docker.getImage(`${repo}:1`).inspect()).RepoTags).toContain(`${repo}:1`);
    } finally {
      registry.kill();
      await docker
        .getImage(`${repo}:1`)
        .remove()
        .catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("close('stop') kills and removes every container of the instance and reports nothing more", async () => {
    const { ex, rec, instanceId } = executor();
    ex.start(job(20, { commands: sh("sleep 30") }));
    ex.start(job(21, { commands: sh("sleep 30") }));
    await rec.runningOf(20);
    await rec.runningOf(21);
    ex.start(job(22, { commands: sh("sleep 30") })); // still being created when close() comes
    await ex.close("stop");
    const count = rec.events.length;
    expect(await containersOf(instanceId)).toEqual([]);
    await sleep(500);
    expect(rec.events.length).toBe(count);
    expect(await containersOf(instanceId)).toEqual([]);
  });
});
