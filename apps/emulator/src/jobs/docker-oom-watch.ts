// Which of our containers the kernel killed for memory, from the engine's event stream.
//
// Why not only `State.OOMKilled` from an inspect after the exit: the engine sets that flag only when containerd's
// OOM notice reaches it before the exit notice. When a process dies right at the OOM kill (the usual case), the
// two race, and under load the exit often wins: the inspect says false for good, while the `oom` event still
// comes, a few ms after the exit. One event subscription per executor catches those, at no cost per job.
import type Dockerode from "dockerode";

/** How long after a SIGKILL exit we wait for a late `oom` event before deciding there was none. */
const LATE_OOM_MS = 250;
const RESUBSCRIBE_MS = 1000;

export class OomWatch {
  private readonly killed = new Set<string>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private stream: NodeJS.ReadableStream | undefined;
  private subscribing: Promise<void> | undefined;
  /** Seconds since the epoch of the last event seen, to resume from after a dropped connection. */
  private since: number | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly docker: Dockerode,
    private readonly labelFilter: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Resolves once the engine has the subscription, so no OOM of a container started afterwards is missed. */
  start(): Promise<void> {
    this.subscribing ??= this.subscribe();
    return this.subscribing;
  }

  /** True when an `oom` event came for the container; waits a little for a late one when `late` is set. */
  async oomKilled(containerId: string, late: boolean): Promise<boolean> {
    if (this.killed.has(containerId) || !late || !this.stream) return this.killed.has(containerId);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.get(containerId)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, LATE_OOM_MS);
      const set = this.waiters.get(containerId) ?? new Set();
      this.waiters.set(containerId, set);
      set.add(done);
    });
    this.waiters.delete(containerId);
    return this.killed.has(containerId);
  }

  /** The container is gone: nothing more to remember about it. */
  forget(containerId: string): void {
    this.killed.delete(containerId);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    const stream = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    stream?.destroy?.();
    this.stream = undefined;
    for (const set of this.waiters.values()) for (const done of set) done();
  }

  private async subscribe(): Promise<void> {
    try {
      const stream = await this.docker.getEvents({
        filters: { type: ["container"], event: ["oom"], label: [this.labelFilter] },
        ...(this.since !== undefined ? { since: this.since } : {}),
      });
      if (this.closed) {
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        return;
      }
      this.stream = stream;
      // An idle executor must not keep the process alive just to hear about OOMs.
      (stream as { socket?: { unref?: () => void } }).socket?.unref?.();
      let buffered = "";
      stream.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("utf8");
        let nl = buffered.indexOf("\n");
        while (nl !== -1) {
          this.onEvent(buffered.slice(0, nl));
          buffered = buffered.slice(nl + 1);
          nl = buffered.indexOf("\n");
        }
      });
      const lost = () => {
        if (this.stream !== stream || this.closed) return;
        this.stream = undefined;
        this.resubscribeLater();
      };
      stream.on("end", lost);
      stream.on("close", lost);
      stream.on("error", lost);
    } catch (error) {
      if (this.closed) return;
      this.log(`docker executor: cannot follow engine events (OOM kills may go unnoticed): ${(error as Error).message}`);
      this.resubscribeLater();
    }
  }

  private resubscribeLater(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.subscribe();
    }, RESUBSCRIBE_MS);
    this.retry.unref();
  }

  private onEvent(line: string): void {
    if (!line.trim()) return;
    let event: { id?: string; Actor?: { ID?: string }; time?: number; status?: string; Action?: string };
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    const id = event.Actor?.ID ?? event.id;
    if (typeof event.time === "number") this.since = event.time;
    if (!id || (event.Action ?? event.status) !== "oom") return;
    this.killed.add(id);
    for (const done of this.waiters.get(id) ?? []) done();
  }
}
