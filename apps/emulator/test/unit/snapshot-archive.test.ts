// The snapshot file on its own: a standard tar.gz that the `tar` command reads and writes, written and read
// back by archive.ts; anything that is not a complete snapshot is refused with a SnapshotError (a 400).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { gzipSync } from "node:zlib";
import tar from "tar-stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readArchive, type SnapshotHeader, SnapshotError, writeArchive } from "../../src/snapshot/archive.js";

const header: SnapshotHeader = {
  format: "htc-emulator-snapshot",
  version: 2,
  createdAt: "2030-01-02T03:04:05.000Z",
  emulatorVersion: "0.1.0",
  schemaVersion: 7,
  clock: { now: Date.parse("2030-01-02T03:04:05.000Z"), speed: 2 },
};
const blob = "ab/0123456789abcdef";

let dir: string;
let files: Map<string, string>;
let archive: Buffer;
let count = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "htc-archive-"));
  const database = join(dir, "db.sqlite");
  writeFileSync(database, Buffer.alloc(100_000, 1));
  const object = join(dir, "object.bin");
  writeFileSync(object, Buffer.from("hello object"));
  files = new Map([
    ["emulator.sqlite", database],
    [`objects/${blob}`, object],
  ]);
  archive = await buffer(writeArchive(header, files));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fresh(): string {
  const target = join(dir, `out-${++count}`);
  mkdirSync(target);
  return target;
}

const read = (bytes: Buffer) => readArchive(Readable.from([bytes]), fresh());

/** A tar.gz of the given entries (a directory entry when the content is null). */
async function tarGz(entries: [name: string, content: string | null, type?: "symlink"][]): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content, type] of entries) {
    if (type === "symlink") pack.entry({ name, type: "symlink", linkname: "/etc/passwd" });
    else if (content === null) pack.entry({ name, type: "directory" });
    else pack.entry({ name }, content);
  }
  pack.finalize();
  return gzipSync(await buffer(pack as unknown as AsyncIterable<Buffer>));
}

const headerJson = JSON.stringify(header);

describe("snapshot archive", () => {
  it("reads back what it wrote", async () => {
    const extracted = await read(archive);
    expect(extracted.header).toEqual(header);
    expect(readFileSync(extracted.database)).toEqual(readFileSync(files.get("emulator.sqlite")!));
    expect([...extracted.blobs.keys()]).toEqual([blob]);
    expect(readFileSync(extracted.blobs.get(blob)!, "utf8")).toBe("hello object");
  });

  it("is a tar.gz the tar command lists and unpacks", () => {
    const file = join(dir, "state.snapshot");
    writeFileSync(file, archive);
    expect(execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).trim().split("\n")).toEqual([
      "snapshot.json",
      "emulator.sqlite",
      `objects/${blob}`,
    ]);
    const target = fresh();
    execFileSync("tar", ["-xzf", file, "-C", target]);
    expect(JSON.parse(readFileSync(join(target, "snapshot.json"), "utf8"))).toEqual(header);
    expect(readFileSync(join(target, "objects", blob), "utf8")).toBe("hello object");
  });

  it("imports an archive unpacked and packed again with tar (other order, ./ prefixes, directories)", async () => {
    const unpacked = fresh();
    execFileSync("tar", ["-xzf", "-", "-C", unpacked], { input: archive });
    const repacked = execFileSync("tar", ["-czf", "-", "-C", unpacked, "./objects", "./emulator.sqlite", "./snapshot.json"]);
    const extracted = await read(repacked);
    expect(extracted.header).toEqual(header);
    expect(readFileSync(extracted.blobs.get(blob)!, "utf8")).toBe("hello object");
  });

  it("refuses what is not a complete snapshot", async () => {
    const cases: [string, Buffer | Promise<Buffer>, RegExp][] = [
      ["not gzip", Buffer.from("hello"), /not a tar\.gz archive/],
      ["gzip, not tar", gzipSync(Buffer.alloc(2048, 7)), /not a tar\.gz archive/],
      ["the old format", gzipSync(`HTC-EMULATOR-SNAPSHOT 1\n${headerJson}\n`), /not a tar\.gz archive/],
      ["cut short", archive.subarray(0, archive.length - 100), /not a tar\.gz archive, or it is damaged/],
      ["no header", tarGz([["emulator.sqlite", "x"]]), /holds no snapshot\.json/],
      ["no database", tarGz([["snapshot.json", headerJson]]), /holds no database/],
      [
        "a header that is not JSON",
        tarGz([
          ["snapshot.json", "{"],
          ["emulator.sqlite", "x"],
        ]),
        /snapshot\.json is not JSON/,
      ],
      ["another version", tarGz([["snapshot.json", JSON.stringify({ ...header, version: 3 })]]), /snapshot\.json is invalid: version/],
      [
        "a path out of the folder",
        tarGz([
          ["snapshot.json", headerJson],
          ["objects/../../evil", "x"],
        ]),
        /unexpected entry/,
      ],
      ["an absolute path", tarGz([["/etc/evil", "x"]]), /unexpected entry/],
      [
        "a symbolic link",
        tarGz([
          ["snapshot.json", headerJson],
          [`objects/${blob}`, null, "symlink"],
        ]),
        /not a plain file \(symlink\)/,
      ],
      [
        "an entry twice",
        tarGz([
          ["snapshot.json", headerJson],
          ["emulator.sqlite", "x"],
          ["./emulator.sqlite", "y"],
        ]),
        /emulator\.sqlite twice/,
      ],
    ];
    for (const [what, bytes, message] of cases) {
      const error = await read(await bytes).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, what).toBeInstanceOf(SnapshotError);
      expect((error as Error).message, what).toMatch(message);
    }
  });
});
