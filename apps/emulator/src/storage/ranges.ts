// Byte ranges: the `Range` header of GetObject/HeadObject and `x-amz-copy-source-range` of UploadPartCopy.
import { s3Errors } from "./errors.js";

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/**
 * `bytes=a-b`, `bytes=a-`, `bytes=-n` → the inclusive range within an object of `size` bytes. Undefined when the
 * header is absent or not a single byte range (S3 then answers with the whole object, as HTTP allows); InvalidRange
 * when the range starts beyond the object.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (!value) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (size === 0) return undefined;
  if (m[1] === "") {
    const length = Number(m[2]);
    if (length === 0) throw s3Errors.invalidRange(size);
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) throw s3Errors.invalidRange(size);
  if (end < start) return undefined;
  return { start, end };
}

/** `x-amz-copy-source-range: bytes=first-last`, both within the source; the whole source when absent. */
export function parseCopySourceRange(value: string | undefined, size: number): ByteRange {
  if (value === undefined) return { start: 0, end: size - 1 };
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!m || Number(m[2]) < Number(m[1]) || Number(m[2]) >= size) {
    throw s3Errors.invalidArgument(
      "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
      "x-amz-copy-source-range",
      value,
    );
  }
  return { start: Number(m[1]), end: Number(m[2]) };
}
