// The database as a file, for snapshots (snapshot/snapshot.ts): an online backup of the live database, what a
// backup holds, bringing a snapshot's file to this emulator's schema, and replacing every row of the live
// database with a file's through ATTACH, in one transaction, so prepared statements and repositories keep working.
import Database from "better-sqlite3";
import { type Db, migrate } from "./database.js";
import { StorageRepository } from "./repositories/storage.js";

/** A database file that cannot be used; the message is a predicate ("is not an emulator's") of the file. */
export class DatabaseFileError extends Error {}

/** Writes an online backup of `db` to `file` (better-sqlite3's backup API: writers are not blocked). */
export async function backupDatabase(db: Db, file: string): Promise<void> {
  await db.backup(file);
}

/** The blobs the rows of a database name. */
export function referencedBlobsOf(db: Db): Set<string> {
  return new StorageRepository(db).referencedFiles();
}

/** What a database file holds that a snapshot's archive needs: its schema version and the blobs it names. */
export function describeDatabaseFile(file: string): { schemaVersion: number; blobs: Set<string> } {
  const db = new Database(file, { readonly: true });
  try {
    return { schemaVersion: db.pragma("user_version", { simple: true }) as number, blobs: referencedBlobsOf(db) };
  } finally {
    db.close();
  }
}

/** Brings a database file to this emulator's schema; refuses one that is not an emulator's or is from a newer one. */
export function migrateDatabaseFile(file: string): void {
  let db: Db;
  try {
    db = new Database(file);
  } catch (error) {
    throw new DatabaseFileError(`cannot be opened: ${(error as Error).message}`);
  }
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'jobs', 'workspaces')").all();
    if (tables.length !== 3) throw new DatabaseFileError("is not an emulator's");
    migrate(db);
  } catch (error) {
    if (error instanceof DatabaseFileError) throw error;
    throw new DatabaseFileError(`cannot be used: ${(error as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * Replaces the rows of every table of `db` with those of the SQLite file `file` (same schema), in one
 * transaction. `live` keeps the signing keys and `meta` (storage secret, instance id) of the running emulator;
 * `start` takes them from the file, except the instance id (which labels this emulator's containers).
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
      // AUTOINCREMENT counters come along, so ids keep growing from where the file was.
      db.prepare("DELETE FROM main.sqlite_sequence").run();
      if (theirs.has("sqlite_sequence"))
        db.prepare("INSERT INTO main.sqlite_sequence (name, seq) SELECT name, seq FROM snap.sqlite_sequence").run();
      const broken = db.pragma("foreign_key_check") as unknown[];
      if (broken.length) throw new DatabaseFileError(`is inconsistent (${broken.length} broken reference(s))`);
    })();
  } finally {
    db.pragma("foreign_keys = ON");
    db.prepare("DETACH DATABASE snap").run();
  }
}
