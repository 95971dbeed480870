// The rules of conditional requests and byte ranges (storage/conditional.ts, storage/ranges.ts), as plain
// functions: S3's precedence between the four conditions, one-second dates, ETag lists, and range forms.
import { describe, expect, it } from "vitest";
import { copySourceConditions, readConditions, type Validators, writePrecondition } from "../src/storage/conditional.js";
import { S3Error } from "../src/storage/errors.js";
import { parseCopySourceRange, parseRange } from "../src/storage/ranges.js";

const row: Validators = { etag: '"abc"', last_modified: Date.parse("2026-03-01T12:00:00.750Z") };
const before = "Sun, 01 Mar 2026 11:59:59 GMT";
const same = "Sun, 01 Mar 2026 12:00:00 GMT";
const after = "Sun, 01 Mar 2026 12:00:01 GMT";

function lookup(headers: Record<string, string>) {
  return (name: string) => headers[name];
}

/** The S3 error code and condition a call throws, or what it returns. */
function outcome(run: () => unknown): unknown {
  try {
    return run();
  } catch (error) {
    if (error instanceof S3Error) return [error.status, error.code, error.details["Condition"] ?? error.details["Key"]];
    throw error;
  }
}

describe("read conditions (GetObject, HeadObject)", () => {
  it.each([
    ["none", {}, undefined],
    ["If-Match matching (quotes optional, lists, *)", { "if-match": "abc" }, undefined],
    ["If-Match in a list", { "if-match": '"x", "abc"' }, undefined],
    ["If-Match *", { "if-match": "*" }, undefined],
    ["If-Match weak form", { "if-match": 'W/"abc"' }, undefined],
    ["If-Match other", { "if-match": '"x"' }, [412, "PreconditionFailed", "If-Match"]],
    ["If-None-Match matching", { "if-none-match": '"abc"' }, 304],
    ["If-None-Match other", { "if-none-match": '"x"' }, undefined],
    ["If-Modified-Since before", { "if-modified-since": before }, undefined],
    ["If-Modified-Since the same second", { "if-modified-since": same }, 304],
    ["If-Modified-Since after", { "if-modified-since": after }, 304],
    ["If-Unmodified-Since before", { "if-unmodified-since": before }, [412, "PreconditionFailed", "If-Unmodified-Since"]],
    ["If-Unmodified-Since the same second", { "if-unmodified-since": same }, undefined],
    ["an unparsable date is ignored", { "if-unmodified-since": "yesterday", "if-modified-since": "soon" }, undefined],
    ["If-Match holds: If-Unmodified-Since is not consulted", { "if-match": '"abc"', "if-unmodified-since": before }, undefined],
    ["If-None-Match fails to match: If-Modified-Since is not consulted", { "if-none-match": '"x"', "if-modified-since": after }, undefined],
    [
      "If-Match fails before If-None-Match is looked at",
      { "if-match": '"x"', "if-none-match": '"abc"' },
      [412, "PreconditionFailed", "If-Match"],
    ],
  ])("%s", (_, headers, expected) => {
    expect(outcome(() => readConditions(lookup(headers), row))).toEqual(expected);
  });
});

describe("copy-source conditions (CopyObject, UploadPartCopy)", () => {
  it.each([
    ["none", {}, undefined],
    ["if-match matching", { "x-amz-copy-source-if-match": '"abc"' }, undefined],
    ["if-match other", { "x-amz-copy-source-if-match": '"x"' }, [412, "PreconditionFailed", "x-amz-copy-source-If-Match"]],
    [
      "if-none-match matching: 412, not 304",
      { "x-amz-copy-source-if-none-match": "abc" },
      [412, "PreconditionFailed", "x-amz-copy-source-If-None-Match"],
    ],
    [
      "if-modified-since after",
      { "x-amz-copy-source-if-modified-since": after },
      [412, "PreconditionFailed", "x-amz-copy-source-If-Modified-Since"],
    ],
    [
      "if-unmodified-since before",
      { "x-amz-copy-source-if-unmodified-since": before },
      [412, "PreconditionFailed", "x-amz-copy-source-If-Unmodified-Since"],
    ],
    ["the plain headers are the destination's business", { "if-match": '"x"' }, undefined],
  ])("%s", (_, headers, expected) => {
    expect(outcome(() => copySourceConditions(lookup(headers), row))).toEqual(expected);
  });
});

describe("write conditions (PutObject, CompleteMultipartUpload)", () => {
  it("If-None-Match: * writes only a new key; If-Match only over the object with that ETag", () => {
    expect(writePrecondition(lookup({}), "k")).toBeUndefined();
    const create = writePrecondition(lookup({ "if-none-match": "*" }), "k")!;
    expect(outcome(() => create(undefined))).toBeUndefined();
    expect(outcome(() => create(row))).toEqual([412, "PreconditionFailed", "If-None-Match"]);
    const replace = writePrecondition(lookup({ "if-match": '"abc"' }), "k")!;
    expect(outcome(() => replace(row))).toBeUndefined();
    expect(outcome(() => replace({ ...row, etag: '"def"' }))).toEqual([412, "PreconditionFailed", "If-Match"]);
    expect(outcome(() => replace(undefined))).toEqual([404, "NoSuchKey", "k"]);
  });

  it("refuses If-None-Match with an ETag on a write: S3 defines only *", () => {
    expect(outcome(() => writePrecondition(lookup({ "if-none-match": '"abc"' }), "k"))).toEqual([501, "NotImplemented", undefined]);
  });
});

describe("byte ranges", () => {
  it.each([
    ["absent", undefined, 10, undefined],
    ["first bytes", "bytes=0-4", 10, { start: 0, end: 4 }],
    ["open end", "bytes=6-", 10, { start: 6, end: 9 }],
    ["suffix", "bytes=-3", 10, { start: 7, end: 9 }],
    ["suffix longer than the object", "bytes=-30", 10, { start: 0, end: 9 }],
    ["end beyond the object", "bytes=8-100", 10, { start: 8, end: 9 }],
    ["several ranges: the whole object", "bytes=0-1,3-4", 10, undefined],
    ["not bytes", "items=0-1", 10, undefined],
    ["reversed: the whole object", "bytes=5-2", 10, undefined],
    ["an empty object: whole", "bytes=0-4", 0, undefined],
  ])("%s", (_, value, size, expected) => {
    expect(parseRange(value, size)).toEqual(expected);
  });

  it("refuses ranges that start beyond the object and empty suffixes with InvalidRange (416)", () => {
    expect(outcome(() => parseRange("bytes=10-", 10))).toEqual([416, "InvalidRange", undefined]);
    expect(outcome(() => parseRange("bytes=-0", 10))).toEqual([416, "InvalidRange", undefined]);
  });

  it("reads x-amz-copy-source-range strictly: bytes=first-last within the source", () => {
    expect(parseCopySourceRange(undefined, 10)).toEqual({ start: 0, end: 9 });
    expect(parseCopySourceRange("bytes=2-5", 10)).toEqual({ start: 2, end: 5 });
    for (const value of ["bytes=2-10", "bytes=5-2", "bytes=2-", "bytes=-2", "2-5"]) {
      expect([value, outcome(() => parseCopySourceRange(value, 10))]).toEqual([value, [400, "InvalidArgument", undefined]]);
    }
  });
});
