// Snapshots of the whole state (admin API GET/POST /snapshot, and `--import <file>` on start): an online backup
// of the SQLite database (better-sqlite3's db.backup()) plus the files of the stored objects and the clock's
// reading, in the archive format of archive.ts. Registry image layers (kept by the registry process) are not
// included.
//
// Importing into a running emulator replaces the rows of every table through an ATTACHed copy of the snapshot,
// inside one transaction, so prepared statements, repositories and services keep working; in-memory state
// derived from the rows (scheduler queues, caches) is rebuilt. The running emulator keeps its signing key and
// its storage secret (the `signing_keys` and `meta` tables), so what it issued stays valid; an emulator started
// with `--import` takes both from the snapshot.
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import Database from "better-sqlite3";
import { isoTime, type VirtualClock } from "../clock.js";
import type { adminComponents } from "../contract-types.js";
import type { Core } from "../core.js";
import { type Db, migrate } from "../db/database.js";
import type { JobService } from "../jobs/service.js";
import type { StorageService } from "../storage/service.js";
import { EMULATOR_VERSION } from "../version.js";
import { type ExtractedSnapshot, readArchive, type SnapshotHeader, SnapshotError, writeArchive } from "./archive.js";
import { blobPath, installBlob, linkOrCopy, referencedBlobs, removeUnreferenced, stagingRoot } from "./storage-files.js";

export { SnapshotError } from "./archive.js";

/** Writes a snapshot of the current state; the stream removes its staging files once it ends or fails. */
export async function exportSnapshot(s: Core, log: (line: string) => void = () => {}): Promise<{ stream: Readable; fileName: string }> {
  const staging = await mkdtemp(join(stagingRoot(s.storage), "export-"));
  try {
    const database = join(staging, "emulator.sqlite");
    await s.db.backup(database);
    const copy = new Database(database, { readonly: true });
    let blobs: string[];
    let schemaVersion: number;
    try {
      blobs = [...referencedBlobs(copy)].sort();
      schemaVersion = copy.pragma("user_version", { simple: true }) as number;
    } finally {
      copy.close();
    }
    const files = new Map<string, string>([["database", database]]);
    const entries: SnapshotHeader["entries"] = [{ name: "database", size: (await stat(database)).size }];
    for (const name of blobs) {
      // Linked first: an object deleted while the snapshot streams keeps its bytes here.
      const path = join(staging, "objects", name);
      try {
        await linkOrCopy(blobPath(s.storage, name), path);
      } catch (error) {
        log(`snapshot: the file of a stored object is missing (${name}): ${(error as Error).message}`);
        continue;
      }
      files.set(`objects/${name}`, path);
      entries.push({ name: `objects/${name}`, size: (await stat(path)).size });
    }
    const now = s.clock.now();
    const header: SnapshotHeader = {
      format: "htc-emulator-snapshot",
      version: 1,
      createdAt: isoTime(now),
      emulatorVersion: EMULATOR_VERSION,
      schemaVersion,
      clock: { now, speed: s.clock.speed },
      entries,
    };
    const stream = writeArchive(header, files);
    const cleanUp = () => void rm(staging, { recursive: true, force: true });
    stream.once("close", cleanUp);
    stream.once("error", cleanUp);
    return { stream, fileName: `htc-emulator-${isoTime(now).replace(/[:.]/g, "-")}.snapshot` };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Brings an extracted snapshot's database to this emulator's schema (refusing one from a newer emulator). */
function prepareDatabase(file: string): void {
  let db: Db;
  try {
    db = new Database(file);
  } catch (error) {
    throw new SnapshotError(`the snapshot's database cannot be opened: ${(error as Error).message}`);
  }
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'jobs', 'workspaces')").all();
    if (tables.length !== 3) throw new SnapshotError("the snapshot's database is not an emulator's");
    migrate(db);
  } catch (error) {
    if (error instanceof SnapshotError) throw error;
    throw new SnapshotError(`the snapshot cannot be used: ${(error as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * Replaces the rows of every table of `db` with those of the SQLite file `file` (same schema), in one
 * transaction. `live` keeps the signing keys and `meta` (storage secret, instance id) of the running emulator;
 * `start` takes them from the snapshot, except the instance id (which labels this emulator's containers).
 */
export function replaceDatabase(db: Db, file: string, mode: "live" | "start"): void {
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  db.prepare("ATTACH DATABASE ? AS snap").run(file);
  try {
    db.pragma("foreign_keys = OFF");
    db.transaction(() => {
      const tablesOf = (schema: string) =>
        (db.prepare(`SELECT name FROM ${schema}.sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name);
      const theirs = new Set(tablesOf("snap"));
      for (const table of tablesOf("main")) {
        if (table === "sqlite_sequence") continue;
        if (mode === "live" && (table === "meta" || table === "signing_keys")) continue;
        if (table === "meta") {
          db.prepare("DELETE FROM main.meta WHERE key <> 'instance_id'").run();
          db.prepare("INSERT OR REPLACE INTO main.meta (key, value) SELECT key, value FROM snap.meta WHERE key <> 'instance_id'").run();
          continue;
        }
        db.prepare(`DELETE FROM main.${quote(table)}`).run();
        if (!theirs.has(table)) continue;
        const columns = (db.prepare("SELECT name FROM pragma_table_info(?, 'main')").all(table) as { name: string }[])
          .map((c) => quote(c.name))
          .join(", ");
        db.prepare(`INSERT INTO main.${quote(table)} (${columns}) SELECT ${columns} FROM snap.${quote(table)}`).run();
      }
      // AUTOINCREMENT counters come along, so ids keep growing from where the snapshot was.
      db.prepare("DELETE FROM main.sqlite_sequence").run();
      if (theirs.has("sqlite_sequence")) db.prepare("INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM snap.sqlite_sequence").run();
      const broken = db.pragma("foreign_key_check") as unknown[];
      if (broken.length) throw new SnapshotError(`the snapshot's database is inconsistent (${broken.length} broken reference(s))`);
    })();
  } finally {
    db.pragma("foreign_keys = ON");
    db.prepare("DETACH DATABASE snap").run();
  }
}

async function extract(source: Readable, dir: string): Promise<ExtractedSnapshot> {
  const extracted = await readArchive(source, dir);
  prepareDatabase(extracted.database);
  return extracted;
}

/** Moves the clock forward to the snapshot's reading if it is behind (it never goes back). */
function catchUp(clock: VirtualClock, header: SnapshotHeader): void {
  const behind = header.clock.now - clock.now();
  if (behind > 0) clock.advance(behind);
}

export type StateSummary = adminComponents["schemas"]["SnapshotSummary"];

export function stateSummary(s: Core): StateSummary {
  const count = (table: string) => (s.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  return {
    workspaces: count("workspaces"),
    projects: count("projects"),
    tasks: count("tasks"),
    jobs: count("jobs"),
    objects: count("storage_objects"),
    clock: { now: isoTime(s.clock.now()), speed: s.clock.speed },
  };
}

/**
 * Replaces the running emulator's state with a snapshot. Attempts in flight are stopped first (their reports
 * dropped); the snapshot's jobs in STARTING or RUNNING are then handed to the executor as after a restart.
 */
export async function importSnapshot(s: Core, jobs: JobService, source: Readable): Promise<StateSummary> {
  const staging = await mkdtemp(join(stagingRoot(s.storage), "import-"));
  try {
    const snapshot = await extract(source, staging);
    const scheduler = jobs.scheduler;
    const before = referencedBlobs(s.db);
    for (const [name, path] of snapshot.blobs) await installBlob(s.storage, name, path);
    const resume = scheduler.suspend();
    try {
      await scheduler.discard();
      // Runs queued while the attempts drained belong to the state being replaced.
      void scheduler.discard();
      try {
        replaceDatabase(s.db, snapshot.database, "live");
        jobs.clearCaches();
        s.tokens.clearCache();
        s.counters.clear();
        catchUp(s.clock, snapshot.header);
      } finally {
        // From the new rows, or from the old ones if the replacement failed (it is one transaction).
        await scheduler.recover();
      }
    } finally {
      resume();
    }
    await removeUnreferenced(s.storage, s.db, before);
    return stateSummary(s);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * `--import <file>` on start, in two steps: the rows right after the database opened (before the signing key
 * and the storage secret are read from it), the object files once the storage is open.
 */
export async function importAtStart(
  db: Db,
  clock: VirtualClock,
  file: string,
): Promise<{ installFiles(storage: StorageService): Promise<void> }> {
  const staging = await mkdtemp(join(tmpdir(), "htc-emulator-import-"));
  try {
    const snapshot = await extract(createReadStream(file), staging);
    replaceDatabase(db, snapshot.database, "start");
    catchUp(clock, snapshot.header);
    return {
      async installFiles(storage) {
        try {
          for (const [name, path] of snapshot.blobs) await installBlob(storage, name, path);
        } finally {
          await rm(staging, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (error instanceof SnapshotError) throw new Error(`cannot import ${file}: ${error.message}`);
    throw error;
  }
}
