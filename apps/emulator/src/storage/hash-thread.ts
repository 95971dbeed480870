// The code of a hashing thread (started by hash-pool.ts). It hashes files while they are being written: the main
// thread reports how far a file has been written, the thread reads that far (from the page cache, into one reused
// buffer) and hashes, so no chunk is copied or kept for hashing and memory stays flat whatever the object's size.
// A thread follows several files (jobs) at once and always works on the oldest one that has bytes to hash,
// one read at a time, taking new messages in between: the upload that started first is answered first, instead
// of every concurrent upload finishing late together (their clients wait for those answers to send more).
import { closeSync, openSync, readSync } from "node:fs";
import { type MessagePort, parentPort, receiveMessageOnPort } from "node:worker_threads";
import { type Algorithm, type Digests, MultiHasher } from "./hashing.js";

/** Messages from the pool: follow a file, it has grown, it is complete, forget it. */
export type ThreadRequest =
  | { t: "open"; id: number; path: string; algorithms: Algorithm[] }
  | { t: "progress"; id: number; n: number }
  | { t: "end"; id: number; n: number }
  | { t: "drop"; id: number };

/** Answers to the pool: a complete file's digests, or why hashing it failed. */
export type ThreadReply = { t: "result"; id: number; digests: Digests } | { t: "error"; id: number; message: string };

const READ_BUFFER = 1024 * 1024;

interface Job {
  fd: number;
  /** How far the file has been hashed. */
  position: number;
  /** How far it has been written. */
  target: number;
  /** The file is complete at `target`. */
  ended: boolean;
  /** A read came back short: wait for the next message before reading again. */
  starved: boolean;
  hasher: MultiHasher;
}

/** The files followed, oldest first (a Map iterates in insertion order). */
const jobs = new Map<number, Job>();
const buffer = Buffer.allocUnsafe(READ_BUFFER);

function reply(message: ThreadReply): void {
  parentPort!.postMessage(message);
}

function forget(id: number, job: Job): void {
  jobs.delete(id);
  if (job.fd < 0) return;
  const fd = job.fd;
  // Marked first: a descriptor closed twice could close another file that reused its number.
  job.fd = -1;
  closeSync(fd);
}

function fail(id: number, job: Job, error: unknown): void {
  try {
    forget(id, job);
  } finally {
    reply({ t: "error", id, message: error instanceof Error ? error.message : String(error) });
  }
}

/** Answers a complete job, or says why it cannot be (the file ended short). */
function settle(id: number, job: Job): void {
  forget(id, job);
  if (job.position !== job.target) reply({ t: "error", id, message: "the file is shorter than what was written" });
  else reply({ t: "result", id, digests: job.hasher.digest() });
}

function apply(m: ThreadRequest): void {
  if (m.t === "open") {
    try {
      jobs.set(m.id, {
        fd: openSync(m.path, "r"),
        position: 0,
        target: 0,
        ended: false,
        starved: false,
        hasher: new MultiHasher(m.algorithms),
      });
    } catch (error) {
      reply({ t: "error", id: m.id, message: String(error) });
    }
    return;
  }
  const job = jobs.get(m.id);
  if (!job) return;
  if (m.t === "drop") {
    forget(m.id, job);
    return;
  }
  job.target = Math.max(job.target, m.n);
  job.starved = false;
  if (m.t === "end") {
    job.target = m.n;
    job.ended = true;
  }
}

/** Reads and hashes the next piece of one job; a short read marks it starved until the next message about it. */
function step(id: number, job: Job): void {
  try {
    const n = readSync(job.fd, buffer, 0, Math.min(buffer.length, job.target - job.position), job.position);
    if (n > 0) {
      job.hasher.update(buffer.subarray(0, n));
      job.position += n;
    } else job.starved = true;
    if (job.ended && (job.position === job.target || job.starved)) settle(id, job);
  } catch (error) {
    fail(id, job, error);
  }
}

/** Works until no job has bytes to hash, oldest job first, taking every new message between two reads. */
function work(port: MessagePort): void {
  for (;;) {
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) apply(m.message as ThreadRequest);
    let next: [number, Job] | undefined;
    for (const entry of jobs) {
      const job = entry[1];
      if (job.ended && job.position === job.target) {
        settle(entry[0], job);
        continue;
      }
      if (!next && !job.starved && job.position < job.target) next = entry;
    }
    if (!next) return;
    step(next[0], next[1]);
  }
}

const port = parentPort;
port?.on("message", (m: ThreadRequest) => {
  apply(m);
  work(port);
});
