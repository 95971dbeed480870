// Persistence of storage: object metadata (the bytes are files, see storage/object-store.ts), multipart uploads
// and their parts. Keys compare as SQLite's BINARY collation does, byte by byte over UTF-8, which is S3's order.
import type { Db } from "../database.js";

export interface ObjectRow {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  /** JSON of [[blob, size], …]. */
  segments: string;
  content_type: string | null;
  /** JSON of the stored headers (x-amz-meta-*, Content-Disposition, …). */
  headers: string | null;
  last_modified: number;
}

export type ListedObject = Pick<ObjectRow, "key" | "size" | "etag" | "last_modified">;

export interface UploadRow {
  upload_id: string;
  bucket: string;
  key: string;
  content_type: string | null;
  headers: string | null;
  created_at: number;
}

export interface PartRow {
  upload_id: string;
  part_number: number;
  size: number;
  etag: string;
  file: string;
  last_modified: number;
}

/** The smallest string greater than every string that starts with `prefix` (for range scans). */
export function prefixEnd(prefix: string): string {
  const chars = Array.from(prefix);
  const last = chars.pop();
  if (last === undefined) return "\u{10FFFF}";
  const next = last.codePointAt(0)! + 1;
  // Skip the surrogate range, which has no UTF-8 form.
  return chars.join("") + String.fromCodePoint(next === 0xd800 ? 0xe000 : next);
}

export function segmentFiles(segments: string): string[] {
  return (JSON.parse(segments) as Array<[string, number]>).map(([file]) => file);
}

export class StorageRepository {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      object: db.prepare("SELECT * FROM storage_objects WHERE bucket = ? AND key = ?"),
      upsert: db.prepare(
        `INSERT INTO storage_objects (bucket, key, size, etag, segments, content_type, headers, last_modified)
         VALUES (@bucket, @key, @size, @etag, @segments, @content_type, @headers, @last_modified)
         ON CONFLICT (bucket, key) DO UPDATE SET size = excluded.size, etag = excluded.etag, segments = excluded.segments,
           content_type = excluded.content_type, headers = excluded.headers, last_modified = excluded.last_modified`,
      ),
      deleteObject: db.prepare("DELETE FROM storage_objects WHERE bucket = ? AND key = ?"),
      listFrom: db.prepare("SELECT key, size, etag, last_modified FROM storage_objects WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?"),
      listAfter: db.prepare("SELECT key, size, etag, last_modified FROM storage_objects WHERE bucket = ? AND key > ? ORDER BY key LIMIT ?"),
      inRange: db.prepare("SELECT segments FROM storage_objects WHERE bucket = ? AND key >= ? AND key < ?"),
      deleteRange: db.prepare("DELETE FROM storage_objects WHERE bucket = ? AND key >= ? AND key < ?"),
      allSegments: db.prepare("SELECT segments FROM storage_objects"),
      upload: db.prepare("SELECT * FROM storage_uploads WHERE upload_id = ?"),
      insertUpload: db.prepare(
        `INSERT INTO storage_uploads (upload_id, bucket, key, content_type, headers, created_at)
         VALUES (@upload_id, @bucket, @key, @content_type, @headers, @created_at)`,
      ),
      deleteUpload: db.prepare("DELETE FROM storage_uploads WHERE upload_id = ?"),
      uploadsInRange: db.prepare("SELECT upload_id FROM storage_uploads WHERE bucket = ? AND key >= ? AND key < ?"),
      part: db.prepare("SELECT * FROM storage_parts WHERE upload_id = ? AND part_number = ?"),
      upsertPart: db.prepare(
        `INSERT INTO storage_parts (upload_id, part_number, size, etag, file, last_modified)
         VALUES (@upload_id, @part_number, @size, @etag, @file, @last_modified)
         ON CONFLICT (upload_id, part_number) DO UPDATE SET size = excluded.size, etag = excluded.etag,
           file = excluded.file, last_modified = excluded.last_modified`,
      ),
      parts: db.prepare("SELECT * FROM storage_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?"),
      allParts: db.prepare("SELECT * FROM storage_parts WHERE upload_id = ? ORDER BY part_number"),
      partFiles: db.prepare("SELECT file FROM storage_parts"),
    };
  }

  object(bucket: string, key: string): ObjectRow | undefined {
    return this.stmts.object.get(bucket, key) as ObjectRow | undefined;
  }

  /** Creates or replaces an object; returns the blobs of the object it replaced. */
  putObject(row: ObjectRow): string[] {
    return this.db.transaction(() => {
      const old = this.object(row.bucket, row.key);
      this.stmts.upsert.run(row);
      return old ? segmentFiles(old.segments) : [];
    })();
  }

  /** Deletes an object; returns its blobs (none when there was no such object). */
  deleteObject(bucket: string, key: string): string[] {
    return this.db.transaction(() => {
      const old = this.object(bucket, key);
      if (!old) return [];
      this.stmts.deleteObject.run(bucket, key);
      return segmentFiles(old.segments);
    })();
  }

  /** Objects in key order from `start` (inclusive) or after it (exclusive). */
  list(bucket: string, start: string, inclusive: boolean, limit: number): ListedObject[] {
    return (inclusive ? this.stmts.listFrom : this.stmts.listAfter).all(bucket, start, limit) as ListedObject[];
  }

  /** Deletes every object and upload under `prefix`; returns their blobs. */
  deletePrefix(bucket: string, prefix: string): string[] {
    const end = prefixEnd(prefix);
    return this.db.transaction(() => {
      const files: string[] = [];
      for (const row of this.stmts.inRange.all(bucket, prefix, end) as { segments: string }[]) files.push(...segmentFiles(row.segments));
      this.stmts.deleteRange.run(bucket, prefix, end);
      for (const { upload_id } of this.stmts.uploadsInRange.all(bucket, prefix, end) as { upload_id: string }[]) {
        files.push(...this.deleteUpload(upload_id));
      }
      return files;
    })();
  }

  upload(uploadId: string): UploadRow | undefined {
    return this.stmts.upload.get(uploadId) as UploadRow | undefined;
  }

  createUpload(row: UploadRow): void {
    this.stmts.insertUpload.run(row);
  }

  /** Deletes an upload and its parts; returns the parts' blobs. */
  deleteUpload(uploadId: string): string[] {
    return this.db.transaction(() => {
      const files = (this.stmts.allParts.all(uploadId) as PartRow[]).map((p) => p.file);
      this.stmts.deleteUpload.run(uploadId);
      return files;
    })();
  }

  part(uploadId: string, partNumber: number): PartRow | undefined {
    return this.stmts.part.get(uploadId, partNumber) as PartRow | undefined;
  }

  /** Stores a part (replacing one with the same number); returns the replaced blob, if any. Undefined when the upload is gone. */
  putPart(row: PartRow): { replaced: string | undefined } | undefined {
    return this.db.transaction(() => {
      if (!this.upload(row.upload_id)) return undefined;
      const old = this.part(row.upload_id, row.part_number);
      this.stmts.upsertPart.run(row);
      return { replaced: old?.file };
    })();
  }

  parts(uploadId: string, afterPart: number, limit: number): PartRow[] {
    return this.stmts.parts.all(uploadId, afterPart, limit) as PartRow[];
  }

  allParts(uploadId: string): PartRow[] {
    return this.stmts.allParts.all(uploadId) as PartRow[];
  }

  /**
   * Completes an upload in one transaction: the object row takes the chosen parts' blobs, the upload and its
   * parts disappear. Returns the blobs no longer referenced (unchosen parts, the replaced object).
   */
  completeUpload(uploadId: string, row: ObjectRow, used: ReadonlySet<string>): string[] | undefined {
    return this.db.transaction(() => {
      if (!this.upload(uploadId)) return undefined;
      const unused = this.deleteUpload(uploadId).filter((file) => !used.has(file));
      return [...unused, ...this.putObject(row)];
    })();
  }

  /** Every blob a row names (for garbage collection). */
  referencedFiles(): Set<string> {
    const files = new Set<string>();
    for (const row of this.stmts.allSegments.iterate() as Iterable<{ segments: string }>) {
      for (const file of segmentFiles(row.segments)) files.add(file);
    }
    for (const row of this.stmts.partFiles.iterate() as Iterable<{ file: string }>) files.add(row.file);
    return files;
  }
}
