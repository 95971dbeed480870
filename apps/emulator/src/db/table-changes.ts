// Change counters for in-memory caches of rows: a counter counts every change of a row of its tables made
// through the connection, whoever makes it (a repository, a reset, a snapshot import, a cascade), so a cache
// that remembers the count it read at knows exactly when to forget. Temporary triggers (they live with the
// connection and never reach the database file, its backups or snapshots) call a function of this process.
import type { Db } from "./database.js";

/** How many times rows of a group of tables have changed on one connection. */
export interface ChangeCount {
  readonly value: number;
}

const counters = new WeakMap<Db, Map<string, ChangeCount>>();

/** The counter of `group` (its tables fixed by the first call for the group on this connection). */
export function changeCounter(db: Db, group: string, tables: readonly string[]): ChangeCount {
  let groups = counters.get(db);
  if (!groups) {
    groups = new Map();
    counters.set(db, groups);
  }
  const existing = groups.get(group);
  if (existing) return existing;
  const counter = { value: 0 };
  groups.set(group, counter);
  const fn = `htc_changed_${group}`;
  db.function(fn, { deterministic: false }, () => {
    counter.value++;
    return null;
  });
  for (const table of tables) {
    for (const event of ["INSERT", "UPDATE", "DELETE"]) {
      db.exec(
        `CREATE TEMP TRIGGER IF NOT EXISTS ${fn}_${table}_${event.toLowerCase()} AFTER ${event} ON main.${table} BEGIN SELECT ${fn}(); END`,
      );
    }
  }
  return counter;
}

/**
 * Rows kept in memory while the counter stands still; outside transactions only (a transaction may still roll
 * back what it changed, so rows it reads are not kept). Cached values are shared by every reader: freeze them.
 */
export class RowCache<K, V> {
  private readonly rows = new Map<K, V>();
  /** The count the cached rows were read at. */
  private readAt = -1;

  constructor(
    private readonly db: Db,
    private readonly changes: ChangeCount,
    private readonly limit = 10_000,
  ) {}

  /** The cached value of `key`, or `read()`'s (kept unless undefined or in a transaction). */
  get(key: K, read: (key: K) => V | undefined): V | undefined {
    if (this.db.inTransaction) return read(key);
    if (this.readAt !== this.changes.value) {
      this.rows.clear();
      this.readAt = this.changes.value;
    }
    const cached = this.rows.get(key);
    if (cached !== undefined) return cached;
    const value = read(key);
    if (value === undefined) return undefined;
    if (this.rows.size >= this.limit) this.rows.clear();
    this.rows.set(key, value);
    return value;
  }
}
