// The snapshot file: a gzip stream of
//   "HTC-EMULATOR-SNAPSHOT 1\n"
//   one line of JSON, the header (what wrote it, the schema version, the clock, and the entries with their sizes)
//   the bytes of each entry, in the header's order: `database` (a SQLite file), then `objects/<blob name>`.
// Written and read as streams, so a snapshot with large stored objects never sits in memory.
import { createReadStream } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import { z } from "zod";
import { BLOB_NAME } from "./storage-files.js";

export const SNAPSHOT_MAGIC = "HTC-EMULATOR-SNAPSHOT 1\n";
const HEADER_LIMIT = 256 * 1024 * 1024;

export const snapshotHeaderSchema = z.object({
  format: z.literal("htc-emulator-snapshot"),
  version: z.literal(1),
  createdAt: z.string(),
  emulatorVersion: z.string(),
  schemaVersion: z.number().int().min(1),
  clock: z.object({ now: z.number(), speed: z.number().positive() }),
  entries: z.array(
    z.object({
      name: z.string().refine((n) => n === "database" || (n.startsWith("objects/") && BLOB_NAME.test(n.slice(8))), "is not a valid entry name"),
      size: z.number().int().min(0),
    }),
  ),
});

export type SnapshotHeader = z.output<typeof snapshotHeaderSchema>;

/** A snapshot that cannot be read: the admin API answers 400 with its message. */
export class SnapshotError extends Error {}

/** The archive of `header` with the files' bytes; each file must have the size the header gives it. */
export function writeArchive(header: SnapshotHeader, files: Map<string, string>): Readable {
  async function* bytes() {
    yield Buffer.from(`${SNAPSHOT_MAGIC}${JSON.stringify(header)}\n`, "utf8");
    for (const entry of header.entries) {
      let size = 0;
      for await (const chunk of createReadStream(files.get(entry.name)!)) {
        size += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (size !== entry.size) throw new Error(`snapshot entry ${entry.name} changed while it was written`);
    }
  }
  const source = Readable.from(bytes());
  const gzip = createGzip();
  source.on("error", (error) => gzip.destroy(error));
  return source.pipe(gzip);
}

/** Reads bytes from an async iterator of chunks: lines, exact lengths, and lengths copied to a file. */
class ByteReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly chunks: AsyncIterator<Buffer>) {}

  private async fill(): Promise<boolean> {
    const next = await this.chunks.next();
    if (next.done) return false;
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, next.value]) : next.value;
    return true;
  }

  async readLine(limit: number): Promise<string> {
    let from = 0;
    for (;;) {
      const end = this.buffer.indexOf(10, from);
      if (end >= 0) {
        const line = this.buffer.subarray(0, end).toString("utf8");
        this.buffer = this.buffer.subarray(end + 1);
        return line;
      }
      from = this.buffer.length;
      if (this.buffer.length > limit) throw new SnapshotError("the snapshot's header is too long");
      if (!(await this.fill())) throw new SnapshotError("the snapshot ends too early");
    }
  }

  async readExactly(n: number): Promise<Buffer> {
    while (this.buffer.length < n) if (!(await this.fill())) throw new SnapshotError("the snapshot ends too early");
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  async copyTo(path: string, n: number): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const file = await open(path, "wx");
    try {
      let left = n;
      while (left > 0) {
        if (this.buffer.length === 0 && !(await this.fill())) throw new SnapshotError("the snapshot ends too early");
        const part = this.buffer.subarray(0, Math.min(left, this.buffer.length));
        await file.write(part);
        this.buffer = this.buffer.subarray(part.length);
        left -= part.length;
      }
    } finally {
      await file.close();
    }
  }
}

export interface ExtractedSnapshot {
  header: SnapshotHeader;
  /** The SQLite file. */
  database: string;
  /** Blob name → its extracted file. */
  blobs: Map<string, string>;
}

/** Extracts a snapshot into `dir`; throws SnapshotError for anything that is not a complete snapshot. */
export async function readArchive(source: Readable, dir: string): Promise<ExtractedSnapshot> {
  const gunzip = createGunzip();
  source.on("error", (error) => gunzip.destroy(error));
  const reader = new ByteReader(source.pipe(gunzip)[Symbol.asyncIterator]());
  try {
    const magic = await reader.readExactly(SNAPSHOT_MAGIC.length);
    if (magic.toString("utf8") !== SNAPSHOT_MAGIC) throw new SnapshotError("this is not an htc-emulator snapshot");
    let header: SnapshotHeader;
    try {
      header = snapshotHeaderSchema.parse(JSON.parse(await reader.readLine(HEADER_LIMIT)));
    } catch (error) {
      if (error instanceof SnapshotError) throw error;
      throw new SnapshotError(`the snapshot's header is invalid: ${(error as Error).message}`);
    }
    if (header.entries[0]?.name !== "database") throw new SnapshotError("the snapshot holds no database");
    const blobs = new Map<string, string>();
    let database = "";
    for (const [i, entry] of header.entries.entries()) {
      const path = join(dir, entry.name === "database" ? "emulator.sqlite" : entry.name);
      if (entry.name === "database") {
        if (i !== 0) throw new SnapshotError("the snapshot holds two databases");
        database = path;
      } else if (blobs.has(entry.name.slice(8))) {
        throw new SnapshotError(`the snapshot holds ${entry.name} twice`);
      } else {
        blobs.set(entry.name.slice(8), path);
      }
      await reader.copyTo(path, entry.size);
    }
    return { header, database, blobs };
  } catch (error) {
    gunzip.destroy();
    if (error instanceof SnapshotError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR") throw new SnapshotError("the snapshot is not a gzip stream, or it is damaged");
    throw error;
  }
}
