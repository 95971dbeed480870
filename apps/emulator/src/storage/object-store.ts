// The bytes of objects, as files: `<root>/tmp/` receives uploads, `<root>/objects/<xx>/<uuid>` holds finished
// blobs. An upload is streamed into a temporary file, verified, flushed to disk (fdatasync) and only then renamed
// into objects/ (whose folder is flushed too, so the new name survives a crash); the database row that names the
// file is written after that, so neither a crash nor a failed check ever exposes a partial or missing object. Files that no row names (a crash between rename and commit) are
// removed by collectGarbage() on start. Blob names are random: keys never become paths, so no key can reach
// outside the storage root.
import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { copyFile, mkdir, open, readdir, rename, rm, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Readable, type Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** The files of an object, in order: [blob name, size]. */
export type Segments = Array<[string, number]>;

export interface TempBlob {
  path: string;
  /** The bytes written into it. */
  size: number;
  /** The flush to disk started as soon as the bytes were written (it runs while the upload is verified). */
  flushed?: Promise<void>;
}

/**
 * Bytes read from a blob at a time for a download: reading and sending overlap more finely than with 1 MiB reads,
 * which made downloads by the aws CLI and the SDK 10-30 % slower here (2 cores, loopback).
 */
const READ_CHUNK = 256 * 1024;

export class ObjectStore {
  private readonly tmpDir: string;
  private readonly objectsDir: string;
  /** The folders of objects/ known to exist (one per first two characters of a blob name). */
  private readonly folders = new Set<string>();

  private constructor(readonly root: string) {
    this.tmpDir = join(root, "tmp");
    this.objectsDir = join(root, "objects");
  }

  static async open(root: string): Promise<ObjectStore> {
    const store = new ObjectStore(root);
    // Whatever is in tmp/ is an upload that never finished.
    await rm(store.tmpDir, { recursive: true, force: true });
    await mkdir(store.tmpDir, { recursive: true });
    await mkdir(store.objectsDir, { recursive: true });
    return store;
  }

  /**
   * Streams `source` through `transforms` into a new temporary file; removes it again if anything fails.
   * `observe` is told the file's path first, and then how far it has been written after every write.
   */
  async receive(source: Readable, transforms: Transform[], observe?: (path: string) => (written: number) => void): Promise<TempBlob> {
    const path = join(this.tmpDir, randomUUID());
    const handle = await open(path, "wx");
    const sink = new FileSink(handle, observe?.(path));
    try {
      await pipeline([source, ...transforms, sink]);
    } catch (error) {
      await handle.close().catch(() => {});
      await unlink(path).catch(() => {});
      throw error;
    }
    // Flushed right away, while the caller verifies the body (hashes, checksums): promote() waits for it.
    const flushed = handle.datasync().finally(() => handle.close());
    flushed.catch(() => {}); // seen by promote(); a discarded blob's flush may fail unobserved
    return { path, size: sink.written, flushed };
  }

  /** Copies a byte range of an object into a new temporary file (CopyObject, UploadPartCopy). */
  async copyRange(segments: Segments, start: number, end: number): Promise<TempBlob> {
    const size = end - start + 1;
    const path = join(this.tmpDir, randomUUID());
    const total = segments.reduce((n, [, size]) => n + size, 0);
    try {
      if (segments.length === 1 && start === 0 && end === total - 1) {
        // The whole of a single file: let the file system copy it (a reflink where it can).
        await copyFile(this.pathOf(segments[0]![0]), path);
      } else {
        await pipeline(await this.read(segments, start, end), createWriteStream(path, { flags: "wx" }));
      }
    } catch (error) {
      await unlink(path).catch(() => {});
      throw error;
    }
    return { path, size };
  }

  /**
   * Makes a verified temporary file durable and moves it into objects/; returns its blob name. The caller commits
   * the row that names the blob only after this returns.
   */
  async promote(blob: TempBlob): Promise<string> {
    // The bytes' flush (started when they were written, or now) runs alongside the rename and the folder's flush:
    // a blob renamed before its bytes are on disk is named by no row yet, and start-up collects unnamed blobs.
    const flushed = blob.flushed ?? (await startFlush(blob.path)).done;
    flushed.catch(() => {}); // awaited below, or by discard() when the rename fails
    const id = randomUUID();
    const folder = id.slice(0, 2);
    const name = `${folder}/${id}`;
    if (!this.folders.has(folder)) {
      await mkdir(join(this.objectsDir, folder), { recursive: true });
      await syncFolder(this.objectsDir); // the new folder's own entry
      this.folders.add(folder);
    }
    try {
      await rename(blob.path, this.pathOf(name));
    } catch (error) {
      // The folder went away behind our back (a snapshot import replaces objects/): make it again, once.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      this.folders.delete(folder);
      await mkdir(join(this.objectsDir, folder), { recursive: true });
      await syncFolder(this.objectsDir);
      this.folders.add(folder);
      await rename(blob.path, this.pathOf(name));
    }
    // A killed process loses nothing the kernel has; the flushes are for a crash of the machine (power, kernel),
    // after which the row the caller commits next must never name a missing or partial file: the bytes must be
    // on disk, and so must the new name, which lives in the folder (without its flush the rename could be
    // forgotten while the row survives, and tmp/ is emptied on start: an acknowledged object would be gone).
    await Promise.all([flushed, syncFolder(join(this.objectsDir, folder))]);
    return name;
  }

  async discard(blob: TempBlob): Promise<void> {
    await blob.flushed?.catch(() => {});
    await unlink(blob.path).catch(() => {});
  }

  /**
   * A stream of bytes `start`..`end` (inclusive) of an object. Every file is opened before this returns, so an
   * object replaced or deleted meanwhile is still read whole.
   */
  async read(segments: Segments, start: number, end: number): Promise<Readable> {
    const pieces: Array<{ handle: FileHandle; start: number; end: number }> = [];
    let offset = 0;
    try {
      for (const [name, size] of segments) {
        const first = offset;
        const last = offset + size - 1;
        offset += size;
        if (size === 0 || last < start || first > end) continue;
        const handle = await open(this.pathOf(name), "r");
        pieces.push({ handle, start: Math.max(start, first) - first, end: Math.min(end, last) - first });
      }
    } catch (error) {
      for (const piece of pieces) await piece.handle.close().catch(() => {});
      throw error;
    }
    if (pieces.length === 1) {
      const [piece] = pieces as [(typeof pieces)[0]];
      return createReadStream("", { fd: piece.handle, start: piece.start, end: piece.end, highWaterMark: READ_CHUNK, autoClose: true });
    }
    async function* bytes() {
      let index = 0;
      try {
        for (; index < pieces.length; index++) {
          const piece = pieces[index]!;
          const stream = createReadStream("", {
            fd: piece.handle,
            start: piece.start,
            end: piece.end,
            highWaterMark: READ_CHUNK,
            autoClose: true,
          });
          for await (const chunk of stream) yield chunk as Buffer;
        }
      } finally {
        for (index++; index < pieces.length; index++) await pieces[index]!.handle.close().catch(() => {});
      }
    }
    return Readable.from(bytes(), { objectMode: false, highWaterMark: READ_CHUNK });
  }

  /** Removes blobs that are no longer referenced (best effort: a missing file is fine). */
  async remove(names: Iterable<string>): Promise<void> {
    for (const name of names) await unlink(this.pathOf(name)).catch(() => {});
  }

  /** Deletes every blob that `isReferenced` does not claim. Returns how many were removed. */
  async collectGarbage(isReferenced: (name: string) => boolean): Promise<number> {
    let removed = 0;
    for (const dir of await readdir(this.objectsDir)) {
      for (const file of await readdir(join(this.objectsDir, dir)).catch(() => [] as string[])) {
        const name = `${dir}/${file}`;
        if (!isReferenced(name)) {
          await unlink(this.pathOf(name)).catch(() => {});
          removed++;
        }
      }
    }
    return removed;
  }

  /** Deletes the whole storage root (the temporary root of an in-memory emulator). */
  async destroy(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }

  private pathOf(name: string): string {
    return join(this.objectsDir, name);
  }
}

/** Starts flushing a file's bytes to disk: `done` settles with the flush (the file may be renamed meanwhile). */
async function startFlush(path: string): Promise<{ done: Promise<void> }> {
  const handle = await open(path, "r+");
  return { done: handle.datasync().finally(() => handle.close()) };
}

/** Flushes a folder's entries (names created or renamed into it) to disk. */
async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Bytes gathered before a write: one system call and one thread-pool turn per MiB instead of one per socket read. */
const WRITE_BATCH = 1024 * 1024;

/**
 * Writes a stream to an open file in batches of about WRITE_BATCH (one writev of the gathered chunks), and reports
 * the written length after each. Chunks are acknowledged as they are gathered; while a batch is being written,
 * the stream buffers up to its high-water mark and then holds the sender back.
 */
class FileSink extends Writable {
  /** Bytes written to the file. */
  written = 0;
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly onWritten: ((written: number) => void) | undefined,
  ) {
    super({ highWaterMark: 256 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.gather([chunk], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.gather(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.gatheredBytes === 0) callback();
    else this.flush(callback);
  }

  private gather(buffers: Buffer[], callback: (error?: Error | null) => void): void {
    for (const buffer of buffers) {
      this.gathered.push(buffer);
      this.gatheredBytes += buffer.length;
    }
    if (this.gatheredBytes < WRITE_BATCH) callback();
    else this.flush(callback);
  }

  private flush(callback: (error?: Error | null) => void): void {
    const buffers = this.gathered;
    const length = this.gatheredBytes;
    this.gathered = [];
    this.gatheredBytes = 0;
    this.handle.writev(buffers, this.written).then(
      ({ bytesWritten }) => {
        if (bytesWritten !== length) return callback(new Error(`short write: ${bytesWritten} of ${length} bytes`));
        this.written += length;
        this.onWritten?.(this.written);
        callback();
      },
      (error: Error) => callback(error),
    );
  }
}
