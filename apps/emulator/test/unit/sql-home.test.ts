// The lint that keeps SQL under src/db/ (scripts/check-sql-home.ts): what it counts, what it lets through, and
// that the emulator's own tree is clean.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkTree, sqlOutsideDb } from "../../scripts/check-sql-home.js";

const messages = (text: string) => sqlOutsideDb("x.ts", text).map((f) => `${f.line}: ${f.message}`);

describe("the SQL home check", () => {
  it("finds the driver, SQL text and calls on the database handle", () => {
    expect(
      messages(
        [
          'import type { Statement } from "better-sqlite3";',
          'const a = s.db.prepare("SELECT 1");',
          "db.pragma(`user_version = ${v}`);",
          "repo.prepared(`UPDATE jobs SET status = ${x} WHERE seq = ?`);",
          "s.db.prepare(sql);",
          "await this.s.db.backup(file);",
          'const text = "DELETE FROM jobs WHERE seq = ?";',
          'const lazy = await import("better-sqlite3");',
        ].join("\n"),
      ),
    ).toEqual([
      "1: imports the SQLite driver",
      "2: .prepare() with SQL text",
      "2: SQL text",
      "3: .pragma() with SQL text",
      "4: .prepared() with SQL text",
      "4: SQL text",
      "5: calls db.prepare()",
      "6: calls db.backup()",
      "7: SQL text",
      "8: imports the SQLite driver",
    ]);
  });

  it("lets transactions, regular expressions and ordinary words through", () => {
    expect(
      messages(
        [
          "s.db.transaction(() => repos.jobs.insertJob(1))();",
          "db.close();",
          "const m = /^bytes=(\\d*)-(\\d*)$/.exec(value);",
          "TIMESTAMP.exec(text);",
          "await executor.prepare();",
          'throw new Error("Select a project first; update the task, then delete it");',
          "// SELECT * FROM jobs in a comment",
        ].join("\n"),
      ),
    ).toEqual([]);
  });

  it("finds nothing in the emulator's source", () => {
    expect(checkTree(fileURLToPath(new URL("../../src", import.meta.url)))).toEqual([]);
  });
});
