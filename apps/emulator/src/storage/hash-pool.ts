// Hashing of large uploads off the event loop: MD5 (the ETag) and the checksums a client asks for cost more CPU
// than receiving and writing the bytes (bench/storage-hashing.ts: hashed inline, 4 concurrent uploads keep the
// event loop ~97% busy, and every other request waits behind them; with the threads ~35%, at ~1.4x the
// throughput), so for large bodies they are computed by a small pool of worker threads that read the temporary
// file right behind the writes (hash-thread.ts). Small bodies are hashed inline (body.ts). Threads start with the
// first large upload and stop when idle: each costs memory (about 30 MB when started through tsx).
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Digests, Algorithm } from "./hashing.js";
import type { ThreadReply, ThreadRequest } from "./hash-thread.js";

/** Hashing of a file while it is being written, in a worker thread. */
export interface FileHasher {
  /** The file is written up to `bytes`. */
  progress(bytes: number): void;
  /** The file is complete at `bytes`: resolves with its digests. */
  digest(bytes: number): Promise<Digests>;
  /** The upload failed: forget the file. */
  drop(): void;
}

interface Pending {
  resolve(digests: Digests): void;
  reject(error: Error): void;
}

/**
 * The thread's module next to this one: compiled JavaScript when the emulator runs from a build, or, from the
 * TypeScript sources (tsx, vitest), an entry that loads the .ts module through tsx.
 */
export function hashThreadUrl(moduleUrl: string = import.meta.url): URL {
  return new URL(moduleUrl.endsWith(".ts") ? "./hash-thread.dev.mjs" : "./hash-thread.js", moduleUrl);
}

/** A hashing thread and how many files it follows. */
interface Thread {
  worker: Worker;
  files: number;
  /** Set while the thread has no file: it is stopped when this fires. */
  idleTimer?: NodeJS.Timeout;
}

/** A thread without work is stopped after this long (it costs tens of MB, more when started through tsx). */
const IDLE_MS = 5 * 60_000;

export class HashPool {
  private threads: Thread[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly owner = new Map<number, Thread>();
  private nextId = 1;
  private nextThread = 0;

  constructor(
    private readonly size = Math.max(1, Math.min(2, availableParallelism())),
    private readonly idleMs = IDLE_MS,
  ) {}

  /** How many threads are running (for tests). */
  get running(): number {
    return this.threads.length;
  }

  /** A hasher that follows the file at `path` as it is written. */
  fileHasher(path: string, algorithms: readonly Algorithm[]): FileHasher {
    const thread = this.thread();
    const id = this.nextId++;
    const send = (message: ThreadRequest) => thread.worker.postMessage(message);
    thread.files++;
    clearTimeout(thread.idleTimer);
    this.owner.set(id, thread);
    send({ t: "open", id, path, algorithms: [...algorithms] });
    let reported = 0;
    let failure: Error | undefined;
    const settle: Pending = {
      resolve: () => {},
      reject: (error) => {
        failure = error;
      },
    };
    this.pending.set(id, settle);
    const forget = () => {
      if (!this.owner.delete(id)) return;
      this.pending.delete(id);
      if (--thread.files === 0 && this.threads.includes(thread)) {
        thread.idleTimer = setTimeout(() => this.retire(thread), this.idleMs);
        thread.idleTimer.unref();
      }
    };
    return {
      progress: (bytes) => {
        // Reported every MiB: enough to keep the thread busy alongside the writes.
        if (bytes - reported < 1024 * 1024) return;
        reported = bytes;
        send({ t: "progress", id, n: bytes });
      },
      digest: (bytes) =>
        new Promise<Digests>((resolve, reject) => {
          if (failure) {
            forget();
            return reject(failure);
          }
          settle.resolve = (digests) => {
            forget();
            resolve(digests);
          };
          settle.reject = (error) => {
            forget();
            reject(error);
          };
          send({ t: "end", id, n: bytes });
        }),
      drop: () => {
        forget();
        send({ t: "drop", id });
      },
    };
  }

  private thread(): Thread {
    if (this.threads.length >= this.size) return this.threads[this.nextThread++ % this.threads.length]!;
    const thread: Thread = { worker: new Worker(hashThreadUrl()), files: 0 };
    thread.worker.unref();
    thread.worker.on("message", (m: ThreadReply) => {
      const entry = this.pending.get(m.id);
      if (!entry) return;
      if (m.t === "result") entry.resolve(m.digests);
      else entry.reject(new Error(`hashing failed: ${m.message}`));
    });
    thread.worker.on("error", (error) => {
      // A dead thread fails every file it was hashing; the next uploads get a new one.
      this.threads = this.threads.filter((t) => t !== thread);
      for (const [id, entry] of this.pending) {
        if (this.owner.get(id) === thread) entry.reject(error);
      }
    });
    this.threads.push(thread);
    return thread;
  }

  /** Stops a thread that has had no file for a while; the next large upload starts a new one. */
  private retire(thread: Thread): void {
    if (thread.files > 0) return;
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
