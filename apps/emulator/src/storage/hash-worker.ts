// Hashing of large uploads off the event loop: MD5 (the ETag) and the checksums a client asks for cost more CPU
// than receiving and writing the bytes, so for large bodies they are computed by a small pool of worker threads
// that read the temporary file right behind the writes (see WORKER_SOURCE). Small bodies are hashed inline.
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { crc32 } from "node:zlib";

export type Algorithm = "md5" | "sha256" | "sha1" | "crc32";
/** Digests by algorithm, in hex (CRC32 as its 4 big-endian bytes). */
export type Digests = Partial<Record<Algorithm, string>>;

/**
 * The worker's code (CommonJS, evaluated). It hashes files as they are written: the main thread reports how far a
 * file has been written, the worker reads that far (from the page cache, into one reused buffer) and hashes, so
 * no chunk is copied or kept for hashing and memory stays flat whatever the object's size.
 */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { crc32 } = require("node:zlib");
const { openSync, readSync, closeSync } = require("node:fs");
const streams = new Map();
function pump(s) {
  while (s.pos < s.target) {
    const n = readSync(s.fd, s.buf, 0, Math.min(s.buf.length, s.target - s.pos), s.pos);
    if (n <= 0) break;
    const data = s.buf.subarray(0, n);
    for (const [a, h] of Object.entries(s.hashes)) {
      if (a === "crc32") h.crc = crc32(data, h.crc);
      else h.update(data);
    }
    s.pos += n;
  }
}
parentPort.on("message", (m) => {
  if (m.t === "open") {
    const hashes = {};
    for (const a of m.algorithms) hashes[a] = a === "crc32" ? { crc: 0 } : createHash(a);
    try {
      streams.set(m.id, { fd: openSync(m.path, "r"), pos: 0, target: 0, hashes, buf: Buffer.allocUnsafe(1024 * 1024) });
    } catch (error) {
      parentPort.postMessage({ t: "error", id: m.id, message: String(error) });
    }
    return;
  }
  const s = streams.get(m.id);
  if (!s) return;
  try {
    if (m.t === "progress") {
      s.target = m.n;
      pump(s);
    } else if (m.t === "end") {
      s.target = m.n;
      pump(s);
      streams.delete(m.id);
      closeSync(s.fd);
      if (s.pos !== m.n) throw new Error("the file is shorter than what was written");
      const digests = {};
      for (const [a, h] of Object.entries(s.hashes)) {
        if (a === "crc32") { const b = Buffer.alloc(4); b.writeUInt32BE(h.crc >>> 0); digests[a] = b.toString("hex"); }
        else digests[a] = h.digest("hex");
      }
      parentPort.postMessage({ t: "result", id: m.id, digests });
    } else if (m.t === "drop") {
      streams.delete(m.id);
      closeSync(s.fd);
    }
  } catch (error) {
    streams.delete(m.id);
    try { closeSync(s.fd); } catch {}
    parentPort.postMessage({ t: "error", id: m.id, message: String(error) });
  }
});
`;

/** Incremental hashing of one body, in this thread (small bodies). */
export class InlineHasher {
  private readonly hashes = new Map<Algorithm, { update(data: Buffer): void; result(): string }>();
  constructor(algorithms: readonly Algorithm[]) {
    for (const a of algorithms) {
      if (a === "crc32") {
        let value = 0;
        this.hashes.set(a, {
          update: (data) => {
            value = crc32(data, value);
          },
          result: () => {
            const out = Buffer.alloc(4);
            out.writeUInt32BE(value >>> 0);
            return out.toString("hex");
          },
        });
      } else {
        const hash = createHash(a);
        this.hashes.set(a, { update: (data) => hash.update(data), result: () => hash.digest("hex") });
      }
    }
  }
  update(chunk: Buffer): void {
    for (const h of this.hashes.values()) h.update(chunk);
  }
  digest(): Digests {
    const out: Digests = {};
    for (const [a, h] of this.hashes) out[a] = h.result();
    return out;
  }
}

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
    this.owner.set(id, worker);
    worker.postMessage({ t: "open", id, path, algorithms });
    let reported = 0;
    let failure: Error | undefined;
    const settle: Pending = {
      resolve: () => {},
      reject: (error) => {
        failure = error;
      },
    };
    this.pending.set(id, settle);
    return {
      progress: (bytes) => {
        // Reported every MiB: enough to keep the worker busy alongside the writes.
        if (bytes - reported < 1024 * 1024) return;
        reported = bytes;
        worker.postMessage({ t: "progress", id, n: bytes });
      },
      digest: (bytes) =>
        new Promise<Digests>((resolve, reject) => {
          if (failure) return reject(failure);
          settle.resolve = (digests) => {
            this.pending.delete(id);
            this.owner.delete(id);
            resolve(digests);
          };
          settle.reject = (error) => {
            this.pending.delete(id);
            this.owner.delete(id);
            reject(error);
          };
          worker.postMessage({ t: "end", id, n: bytes });
        }),
      drop: () => {
        this.pending.delete(id);
        this.owner.delete(id);
        worker.postMessage({ t: "drop", id });
      },
    };
  }

  private worker(): Worker {
    if (this.workers.length < this.size) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref();
      worker.on("message", (m: { t: string; id: number; digests?: Digests; message?: string }) => {
        const entry = this.pending.get(m.id);
        if (!entry) return;
        if (m.t === "result") entry.resolve(m.digests!);
        else if (m.t === "error") entry.reject(new Error(`hashing failed: ${m.message}`));
      });
      worker.on("error", (error) => {
        // A dead worker fails every file it was hashing; the next uploads get a new one.
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
