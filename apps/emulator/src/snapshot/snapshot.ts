// Snapshots of the whole state (admin API GET/POST /snapshot, and `--import <file>` on start): an online backup
// of the SQLite database plus the files of the stored objects and the clock's reading, in the archive format of
// archive.ts (a tar.gz). Registry image layers (kept by the registry process) are not
// included.
//
// Importing into a running emulator replaces the rows of every table through an ATTACHed copy of the snapshot,
// inside one transaction, so prepared statements, repositories and services keep working; in-memory state
// derived from the rows (scheduler queues, caches) is rebuilt. The running emulator keeps its signing key and
// its storage secret (the `signing_keys` and `meta` tables), so what it issued stays valid; an emulator started
// with `--import` takes both from the snapshot.
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { isoTime, type VirtualClock } from "../clock.js";
import type { adminComponents } from "../contract-types.js";
import type { Core } from "../core.js";
import type { Db } from "../db/database.js";
import { backupDatabase, DatabaseFileError, describeDatabaseFile, migrateDatabaseFile, replaceDatabase } from "../db/database-files.js";
import type { JobService } from "../jobs/service.js";
import type { StorageService } from "../storage/service.js";
import { EMULATOR_VERSION } from "../version.js";
import { DATABASE_ENTRY, type ExtractedSnapshot, readArchive, type SnapshotHeader, SnapshotError, writeArchive } from "./archive.js";
import { blobPath, installBlob, linkOrCopy, referencedBlobs, removeUnreferenced, stagingRoot } from "./storage-files.js";

export { SnapshotError } from "./archive.js";

/** Writes a snapshot of the current state; the stream removes its staging files once it ends or fails. */
export async function exportSnapshot(s: Core, log: (line: string) => void = () => {}): Promise<{ stream: Readable; fileName: string }> {
  const staging = await mkdtemp(join(stagingRoot(s.storage), "export-"));
  try {
    const database = join(staging, DATABASE_ENTRY);
    await backupDatabase(s.db, database);
    const { schemaVersion, blobs } = describeDatabaseFile(database);
    const files = new Map<string, string>([[DATABASE_ENTRY, database]]);
    for (const name of [...blobs].sort()) {
      // Linked first: an object deleted while the snapshot streams keeps its bytes here.
      const path = join(staging, "objects", name);
      try {
        await linkOrCopy(blobPath(s.storage, name), path);
      } catch (error) {
        log(`snapshot: the file of a stored object is missing (${name}): ${(error as Error).message}`);
        continue;
      }
      files.set(`objects/${name}`, path);
    }
    const now = s.clock.now();
    const header: SnapshotHeader = {
      format: "htc-emulator-snapshot",
      version: 2,
      createdAt: isoTime(now),
      emulatorVersion: EMULATOR_VERSION,
      schemaVersion,
      clock: { now, speed: s.clock.speed },
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
  try {
    migrateDatabaseFile(file);
  } catch (error) {
    if (error instanceof DatabaseFileError) throw new SnapshotError(`the snapshot's database ${error.message}`);
    throw error;
  }
}

/** Replaces the live rows with the snapshot's (one transaction); a snapshot that breaks references is refused. */
function replaceRows(db: Db, file: string, mode: "live" | "start"): void {
  try {
    replaceDatabase(db, file, mode);
  } catch (error) {
    if (error instanceof DatabaseFileError) throw new SnapshotError(`the snapshot's database ${error.message}`);
    throw error;
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
  const { workspaces, projects, tasks, jobs, objects } = s.repos.state.counts();
  return { workspaces, projects, tasks, jobs, objects, clock: { now: isoTime(s.clock.now()), speed: s.clock.speed } };
}

/**
 * Replaces the running emulator's state with a snapshot. Attempts in flight are stopped first (their reports
 * dropped); the snapshot's jobs in STARTING or RUNNING are then handed to the executor as after a restart.
 */
export async function importSnapshot(s: Core, jobs: JobService, source: Readable): Promise<StateSummary> {
  const staging = await mkdtemp(join(stagingRoot(s.storage), "import-"));
  try {
    const snapshot = await extract(source, staging);
    const controls = jobs.scheduler.controls;
    const before = referencedBlobs(s.db);
    for (const [name, path] of snapshot.blobs) await installBlob(s.storage, name, path);
    const resume = controls.suspend();
    try {
      await controls.discard();
      // Runs queued while the attempts drained belong to the state being replaced.
      void controls.discard();
      try {
        replaceRows(s.db, snapshot.database, "live");
        jobs.clearCaches();
        s.tokens.clearCache();
        s.counters.clear();
        catchUp(s.clock, snapshot.header);
      } finally {
        // From the new rows, or from the old ones if the replacement failed (it is one transaction).
        await jobs.scheduler.recover();
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
    replaceRows(db, snapshot.database, "start");
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
