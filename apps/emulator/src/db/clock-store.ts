// The virtual clock's state in the `meta` table (key `clock`, JSON), so that an advance or a speed set through the
// admin API survives a restart, and travels with a snapshot's database.
import type { ClockState, ClockStore } from "../clock.js";
import type { Db } from "./database.js";

const KEY = "clock";

export function clockStoreIn(db: Db): ClockStore {
  const read = db.prepare("SELECT value FROM meta WHERE key = ?");
  const write = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  return {
    load() {
      const row = read.get(KEY) as { value: string } | undefined;
      return row ? parseState(row.value) : undefined;
    },
    save(state) {
      write.run(KEY, JSON.stringify(state));
    },
  };
}

function parseState(text: string): ClockState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const state = value as Partial<ClockState> | undefined;
  const finite = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n);
  if (!state || !finite(state.real) || !finite(state.virtual) || !finite(state.speed) || state.speed <= 0) {
    // Starting from real time instead could move the clock backwards, past timestamps already issued.
    throw new Error(`the clock's state in the database is malformed (meta '${KEY}': ${text})`);
  }
  return { real: state.real, virtual: state.virtual, speed: state.speed };
}
