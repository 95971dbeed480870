// Hashing of large uploads off the event loop: MD5 (the ETag) and the checksums a client asks for cost more CPU
// than receiving and writing the bytes (bench/storage-hashing.ts: hashed inline, 4 concurrent uploads keep the
// event loop ~97% busy, and every other request waits behind them; with the threads ~35%, at ~1.4x the
// throughput), so for large bodies they are computed by a small pool of worker threads that read the temporary
// file right behind the writes (hash-thread.ts). Small bodies are hashed inline (body.ts). Threads start with the
// first large upload and stop when idle: each costs memory (about 30 MB when started through tsx).
//
// A file's algorithms are split between the threads (the AWS CLI asks for MD5 and SHA-256 on every part), and
// each share goes to the thread with the least work waiting, so one upload is hashed by every thread at once and
// no thread falls behind while another idles. Each thread hashes its oldest file first (hash-thread.ts).
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Digests, Algorithm } from "./hashing.js";
import type { ThreadReply, ThreadRequest } from "./hash-thread.js";

/** Hashing of a file while it is being written, in worker threads. */
export interface FileHasher {
  /** The file is written up to `bytes`. */
  progress(bytes: number): void;
  /** The file is complete at `bytes`: resolves with its digests. */
  digest(bytes: number): Promise<Digests>;
  /** The upload failed: forget the file. */
  drop(): void;
}

/**
 * The thread's module next to this one: compiled JavaScript when the emulator runs from a build, or, from the
 * TypeScript sources (tsx, vitest), an entry that loads the .ts module through tsx.
 */
export function hashThreadUrl(moduleUrl: string = import.meta.url): URL {
  return new URL(moduleUrl.endsWith(".ts") ? "./hash-thread.dev.mjs" : "./hash-thread.js", moduleUrl);
}

/** CPU time per byte of each algorithm, relative (node 20 on OpenSSL 3: MD5 ~1.5 ms/MiB, SHA-256 and SHA-1 ~0.9). */
const COST: Record<Algorithm, number> = { md5: 5, sha256: 3, sha1: 3, crc32: 2 };

/** What a file whose size is not known counts for when threads are compared. */
const UNKNOWN_SIZE = 8 * 1024 * 1024;

/** A share of one file's hashing, done by one thread. */
interface Job {
  thread: Thread;
  /** COST × expected bytes: the work it adds to its thread until it ends. */
  weight: number;
  /** Set when the thread answered (or failed). */
  settle?: { resolve(digests: Digests): void; reject(error: Error): void };
  /** The answer if it came before anyone asked. */
  outcome?: { digests: Digests } | { error: Error };
}

/** A hashing thread and the work it holds. */
interface Thread {
  worker: Worker;
  jobs: number;
  /** The summed weight of its jobs. */
  load: number;
  /** Set while the thread has no job: it is stopped when this fires. */
  idleTimer?: NodeJS.Timeout;
}

/** A thread without work is stopped after this long (it costs tens of MB, more when started through tsx). */
const IDLE_MS = 5 * 60_000;

/** Reported progress steps: enough to keep the threads busy alongside the writes. */
const PROGRESS_STEP = 1024 * 1024;

export class HashPool {
  private threads: Thread[] = [];
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;

  constructor(
    private readonly size = Math.max(1, Math.min(2, availableParallelism())),
    private readonly idleMs = IDLE_MS,
  ) {}

  /** How many threads are running (for tests). */
  get running(): number {
    return this.threads.length;
  }

  /** A hasher that follows the file at `path` as it is written; `expectedBytes` (if known) balances the threads. */
  fileHasher(path: string, algorithms: readonly Algorithm[], expectedBytes?: number): FileHasher {
    const bytes = expectedBytes ?? UNKNOWN_SIZE;
    const ids: number[] = [];
    const used = new Set<Thread>();
    for (const share of this.shares(algorithms)) {
      const thread = this.thread(used);
      used.add(thread);
      const id = this.nextId++;
      const weight = share.reduce((sum, a) => sum + COST[a], 0) * Math.max(bytes, 1);
      thread.jobs++;
      thread.load += weight;
      clearTimeout(thread.idleTimer);
      this.jobs.set(id, { thread, weight });
      ids.push(id);
      thread.worker.postMessage({ t: "open", id, path, algorithms: share } satisfies ThreadRequest);
    }
    const send = (message: (id: number) => ThreadRequest) => {
      for (const id of ids) this.jobs.get(id)?.thread.worker.postMessage(message(id));
    };
    let reported = 0;
    return {
      progress: (n) => {
        if (n - reported < PROGRESS_STEP) return;
        reported = n;
        send((id) => ({ t: "progress", id, n }));
      },
      digest: async (n) => {
        const waits = ids.map((id) => this.answer(id));
        send((id) => ({ t: "end", id, n }));
        const results = await Promise.allSettled(waits);
        const failed = results.find((r) => r.status === "rejected");
        if (failed) throw (failed as PromiseRejectedResult).reason;
        return Object.assign({}, ...results.map((r) => (r as PromiseFulfilledResult<Digests>).value)) as Digests;
      },
      drop: () => {
        send((id) => ({ t: "drop", id }));
        for (const id of ids) this.finish(id);
      },
    };
  }

  /** The algorithms split into one share per thread (at most), their costs as even as the split allows. */
  private shares(algorithms: readonly Algorithm[]): Algorithm[][] {
    const count = Math.min(this.size, algorithms.length);
    if (count <= 1) return [[...algorithms]];
    const shares: Algorithm[][] = Array.from({ length: count }, () => []);
    const costs = new Array<number>(count).fill(0);
    for (const algorithm of [...algorithms].sort((a, b) => COST[b] - COST[a])) {
      const lightest = costs.indexOf(Math.min(...costs));
      shares[lightest]!.push(algorithm);
      costs[lightest]! += COST[algorithm];
    }
    return shares;
  }

  /** A job's digests once its thread has answered. */
  private answer(id: number): Promise<Digests> {
    const job = this.jobs.get(id);
    if (!job) return Promise.reject(new Error("hashing failed: the file was dropped"));
    return new Promise<Digests>((resolve, reject) => {
      const done = (outcome: NonNullable<Job["outcome"]>) => {
        this.finish(id);
        if ("error" in outcome) reject(outcome.error);
        else resolve(outcome.digests);
      };
      if (job.outcome) return done(job.outcome);
      job.settle = {
        resolve: (digests) => done({ digests }),
        reject: (error) => done({ error }),
      };
    });
  }

  /** A job is over: its thread's load goes down, and a thread left without work is stopped later. */
  private finish(id: number): void {
    const job = this.jobs.get(id);
    if (!job) return;
    this.jobs.delete(id);
    const { thread } = job;
    thread.load -= job.weight;
    if (--thread.jobs === 0 && this.threads.includes(thread)) {
      thread.load = 0;
      thread.idleTimer = setTimeout(() => this.retire(thread), this.idleMs);
      thread.idleTimer.unref();
    }
  }

  /** The thread with the least work waiting among those not in `exclude`; a new one while the pool is not full. */
  private thread(exclude: ReadonlySet<Thread>): Thread {
    const candidates = this.threads.filter((t) => !exclude.has(t));
    if (this.threads.length < this.size && (candidates.length === 0 || candidates.every((t) => t.jobs > 0))) return this.start();
    if (candidates.length === 0) return this.threads.reduce((a, b) => (b.load < a.load ? b : a));
    return candidates.reduce((a, b) => (b.load < a.load ? b : a));
  }

  private start(): Thread {
    const thread: Thread = { worker: new Worker(hashThreadUrl()), jobs: 0, load: 0 };
    thread.worker.unref();
    thread.worker.on("message", (m: ThreadReply) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      if (m.t === "error") {
        const error = new Error(`hashing failed: ${m.message}`);
        if (job.settle) job.settle.reject(error);
        else job.outcome = { error };
      } else if (job.settle) job.settle.resolve(m.digests);
      else job.outcome = { digests: m.digests };
    });
    thread.worker.on("error", (error) => {
      // A dead thread fails every file it was hashing; the next uploads get a new one.
      this.threads = this.threads.filter((t) => t !== thread);
      for (const job of this.jobs.values()) {
        if (job.thread !== thread) continue;
        if (job.settle) job.settle.reject(error);
        else job.outcome = { error };
      }
    });
    this.threads.push(thread);
    return thread;
  }

  /** Stops a thread that has had no file for a while; the next large upload starts a new one. */
  private retire(thread: Thread): void {
    if (thread.jobs > 0) return;
    this.threads = this.threads.filter((t) => t !== thread);
    void thread.worker.terminate();
  }

  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    for (const thread of threads) clearTimeout(thread.idleTimer);
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}
