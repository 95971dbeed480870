// The snapshot file: a standard tar archive compressed with gzip (`tar -xzf` unpacks it), holding
//   snapshot.json        the header: what wrote it, the schema version and the clock's state (written first)
//   emulator.sqlite      the database
//   objects/<blob name>  the files of the stored objects, named as the object store names them
// Written and read as streams (tar-stream), so a snapshot with large stored objects never sits in memory. Reading
// takes the entries in any order, with or without a leading "./", and skips directories, so an archive unpacked
// and packed again with `tar` still imports. Format version 1 (a gzip stream with a line-based header, written
// before snapshots were tar archives) had no users outside this repository's tests and is not read.
import { createReadStream } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import tar from "tar-stream";
import { z } from "zod";
import { BLOB_NAME } from "./storage-files.js";

export const HEADER_ENTRY = "snapshot.json";
export const DATABASE_ENTRY = "emulator.sqlite";
const OBJECTS = "objects/";
const HEADER_LIMIT = 1024 * 1024;

export const snapshotHeaderSchema = z.object({
  format: z.literal("htc-emulator-snapshot"),
  version: z.literal(2),
  createdAt: z.string(),
  emulatorVersion: z.string(),
  schemaVersion: z.number().int().min(1),
  clock: z.object({ now: z.number(), speed: z.number().positive() }),
});

export type SnapshotHeader = z.output<typeof snapshotHeaderSchema>;

/** A snapshot that cannot be read: the admin API answers 400 with its message. */
export class SnapshotError extends Error {}

/**
 * The archive of `header` and `files` (entry name → file; the database under DATABASE_ENTRY, blobs under
 * `objects/<name>`), as a gzip stream. A file that changes size while it is written fails the stream.
 */
export function writeArchive(header: SnapshotHeader, files: Map<string, string>): Readable {
  const pack = tar.pack();
  const gzip = createGzip();
  pack.on("error", (error: Error) => gzip.destroy(error));
  pack.pipe(gzip);
  // Real time, not the emulator's clock: an advanced clock would make `tar` warn of times in the future.
  const mtime = new Date();
  const add = (name: string, size: number, fill: (entry: ReturnType<typeof pack.entry>) => void) =>
    new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name, size, mode: 0o644, mtime }, (error) => (error ? reject(error) : resolve()));
      fill(entry);
    });
  (async () => {
    const json = Buffer.from(`${JSON.stringify(header, null, 2)}\n`, "utf8");
    await add(HEADER_ENTRY, json.length, (entry) => entry.end(json));
    for (const [name, path] of files) {
      const file = await open(path, "r");
      let size: number;
      try {
        size = (await file.stat()).size;
      } finally {
        await file.close();
      }
      await add(name, size, (entry) =>
        createReadStream(path)
          .on("error", (error) => pack.destroy(error))
          .pipe(entry as unknown as NodeJS.WritableStream),
      );
    }
    pack.finalize();
  })().catch((error: Error) => pack.destroy(error));
  return gzip;
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
  const extract = tar.extract();
  source.on("error", (error) => gunzip.destroy(error));
  gunzip.on("error", (error) => extract.destroy(error));
  source.pipe(gunzip).pipe(extract);
  let header: SnapshotHeader | undefined;
  let database: string | undefined;
  const blobs = new Map<string, string>();
  try {
    for await (const entry of extract) {
      const name = entry.header.name.replace(/^(\.\/)+/, "");
      const type = entry.header.type ?? "file";
      if (type === "directory") {
        entry.resume();
        continue;
      }
      if (type !== "file") throw new SnapshotError(`the snapshot holds ${name}, which is not a plain file (${type})`);
      if (name === HEADER_ENTRY) {
        if (header) throw new SnapshotError(`the snapshot holds ${HEADER_ENTRY} twice`);
        header = parseHeader(await readSmall(entry, HEADER_LIMIT));
      } else if (name === DATABASE_ENTRY) {
        if (database) throw new SnapshotError(`the snapshot holds ${DATABASE_ENTRY} twice`);
        database = join(dir, DATABASE_ENTRY);
        await copyTo(entry, database);
      } else if (name.startsWith(OBJECTS) && BLOB_NAME.test(name.slice(OBJECTS.length))) {
        const blob = name.slice(OBJECTS.length);
        if (blobs.has(blob)) throw new SnapshotError(`the snapshot holds ${name} twice`);
        const path = join(dir, "objects", blob);
        blobs.set(blob, path);
        await copyTo(entry, path);
      } else {
        throw new SnapshotError(`the snapshot holds an unexpected entry: ${JSON.stringify(name)}`);
      }
    }
  } catch (error) {
    source.unpipe(gunzip);
    gunzip.destroy();
    extract.destroy();
    if (error instanceof SnapshotError) throw error;
    // Files written here fail with an errno code; a stream that is not gzip, or not tar, fails without one or with zlib's.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || code.startsWith("Z_")) {
      throw new SnapshotError(`the snapshot is not a tar.gz archive, or it is damaged (${(error as Error).message})`);
    }
    throw error;
  }
  if (!header) throw new SnapshotError(`the snapshot holds no ${HEADER_ENTRY}: it is not an htc-emulator snapshot`);
  if (!database) throw new SnapshotError(`the snapshot holds no database (${DATABASE_ENTRY})`);
  return { header, database, blobs };
}

function parseHeader(text: string): SnapshotHeader {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SnapshotError(`the snapshot's ${HEADER_ENTRY} is not JSON: ${(error as Error).message}`);
  }
  const parsed = snapshotHeaderSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SnapshotError(`the snapshot's ${HEADER_ENTRY} is invalid: ${issue.path.join(".") || "(root)"} ${issue.message}`);
  }
  return parsed.data;
}

// Entries yield Buffers (tar-stream's types say unknown).
async function readSmall(entry: AsyncIterable<unknown>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of entry as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new SnapshotError(`the snapshot's ${HEADER_ENTRY} is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function copyTo(entry: AsyncIterable<unknown>, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, "wx");
  try {
    for await (const chunk of entry as AsyncIterable<Buffer>) await file.write(chunk);
  } finally {
    await file.close();
  }
}
