// Hashing of large uploads off the event loop: MD5 (the ETag) and the checksums a client asks for cost more CPU
// than receiving and writing the bytes (measured: hashed inline, 4 concurrent uploads keep the event loop ~97%
// busy, which every other request then waits behind; with the threads it is ~30% busy), so for large bodies they
// are computed by a small pool of worker threads that read the temporary file right behind the writes
// (hash-thread.ts). Small bodies are hashed inline (body.ts).
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

export class HashPool {
  private workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly owner = new Map<number, Worker>();
  private nextId = 1;
  private nextWorker = 0;

  constructor(private readonly size = Math.max(1, Math.min(2, availableParallelism()))) {}

  /** A hasher that follows the file at `path` as it is written. */
  fileHasher(path: string, algorithms: readonly Algorithm[]): FileHasher {
    const worker = this.worker();
    const id = this.nextId++;
    const send = (message: ThreadRequest) => worker.postMessage(message);
    this.owner.set(id, worker);
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
      this.pending.delete(id);
      this.owner.delete(id);
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

  private worker(): Worker {
    if (this.workers.length < this.size) {
      const worker = new Worker(hashThreadUrl());
      worker.unref();
      worker.on("message", (m: ThreadReply) => {
        const entry = this.pending.get(m.id);
        if (!entry) return;
        if (m.t === "result") entry.resolve(m.digests);
        else entry.reject(new Error(`hashing failed: ${m.message}`));
      });
      worker.on("error", (error) => {
        // A dead thread fails every file it was hashing; the next uploads get a new one.
        this.workers = this.workers.filter((w) => w !== worker);
        for (const [id, entry] of this.pending) {
          if (this.owner.get(id) === worker) entry.reject(error);
        }
      });
      this.workers.push(worker);
      return worker;
    }
    const worker = this.workers[this.nextWorker % this.workers.length]!;
    this.nextWorker++;
    return worker;
  }

  async close(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
