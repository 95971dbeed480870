// The code of a hashing thread (started by hash-pool.ts). It hashes files while they are being written: the main
// thread reports how far a file has been written, the thread reads that far (from the page cache, into one reused
// buffer) and hashes, so no chunk is copied or kept for hashing and memory stays flat whatever the object's size.
import { closeSync, openSync, readSync } from "node:fs";
import { parentPort } from "node:worker_threads";
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

interface Followed {
  fd: number;
  /** How far the file has been hashed. */
  position: number;
  /** How far it has been written. */
  target: number;
  hasher: MultiHasher;
}

const files = new Map<number, Followed>();
const buffer = Buffer.allocUnsafe(READ_BUFFER);

function catchUp(file: Followed): void {
  while (file.position < file.target) {
    const n = readSync(file.fd, buffer, 0, Math.min(buffer.length, file.target - file.position), file.position);
    if (n <= 0) break;
    file.hasher.update(buffer.subarray(0, n));
    file.position += n;
  }
}

function reply(message: ThreadReply): void {
  parentPort!.postMessage(message);
}

function forget(id: number, file: Followed): void {
  files.delete(id);
  if (file.fd < 0) return;
  const fd = file.fd;
  // Marked first: a descriptor closed twice could close another file that reused its number.
  file.fd = -1;
  closeSync(fd);
}

function onRequest(m: ThreadRequest): void {
  if (m.t === "open") {
    try {
      files.set(m.id, { fd: openSync(m.path, "r"), position: 0, target: 0, hasher: new MultiHasher(m.algorithms) });
    } catch (error) {
      reply({ t: "error", id: m.id, message: String(error) });
    }
    return;
  }
  const file = files.get(m.id);
  if (!file) return;
  try {
    if (m.t === "progress") {
      file.target = m.n;
      catchUp(file);
    } else if (m.t === "end") {
      file.target = m.n;
      catchUp(file);
      forget(m.id, file);
      if (file.position !== m.n) reply({ t: "error", id: m.id, message: "the file is shorter than what was written" });
      else reply({ t: "result", id: m.id, digests: file.hasher.digest() });
    } else {
      forget(m.id, file);
    }
  } catch (error) {
    try {
      forget(m.id, file);
    } finally {
      reply({ t: "error", id: m.id, message: String(error) });
    }
  }
}

parentPort?.on("message", onRequest);
