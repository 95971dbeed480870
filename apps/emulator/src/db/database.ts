// Opens the emulator's SQLite database and brings its schema up to date.
// WAL with synchronous=NORMAL: a committed transaction survives the process being killed at any moment
// (only a power loss could drop the last commits), and readers never block the writer.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { migrations } from "./migrations.js";

export type Db = Database.Database;

export function openDatabase(location: { inMemory: true } | { dataDir: string }): Db {
  let db: Db;
  if ("dataDir" in location) {
    mkdirSync(location.dataDir, { recursive: true });
    db = new Database(join(location.dataDir, "emulator.sqlite"));
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
  } else {
    db = new Database(":memory:");
  }
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return db;
}

/** Applies every migration newer than the database's `user_version`, each in its own transaction. */
export function migrate(db: Db): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `the database was written by a newer emulator (schema ${current}, this one knows ${migrations.length}); ` +
        "use a newer emulator or another data dir",
    );
  }
  for (let version = current + 1; version <= migrations.length; version++) {
    const step = migrations[version - 1]!;
    db.transaction(() => {
      db.exec(step);
      db.pragma(`user_version = ${version}`);
    })();
  }
}
