// The storage of one emulator: object metadata in SQLite, bytes in files (object-store.ts), credentials
// (credentials.ts). s3-routes.ts calls it with already authorised requests; domain/storage.ts issues credentials.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import type { Clock } from "../clock.js";
import type { Db } from "../db/database.js";
import {
  type ListedObject,
  type ObjectRow,
  type PartRow,
  prefixEnd,
  StorageRepository,
  type UploadRow,
} from "../db/repositories/storage.js";
import type { BodyPlan } from "./body.js";
import type { WritePrecondition } from "./conditional.js";
import { CredentialAuthority } from "./credentials.js";
import { s3Errors } from "./errors.js";
import { etagOf, normalizeEtag } from "./etags.js";
import { HashPool } from "./hash-pool.js";
import { allBuckets, scopePrefix } from "./layout.js";
import { ObjectStore, type Segments, type TempBlob } from "./object-store.js";

/** S3's lower bound for every part of a multipart upload but the last. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PARTS = 10000;

/** Headers stored with an object and returned on GET/HEAD. */
export interface ObjectMeta {
  contentType: string | null;
  headers: Record<string, string>;
}

export interface ListRequest {
  bucket: string;
  prefix: string;
  delimiter: string;
  maxKeys: number;
  /** Where to start: the key (inclusive or not) from a continuation token, start-after or marker. */
  start: { value: string; inclusive: boolean } | undefined;
  /** Only keys under this prefix are visible (the caller's scope). */
  within: string;
}

export interface ListResult {
  contents: ListedObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** Where the next page starts (for continuation tokens). */
  next: { value: string; inclusive: boolean };
  /** The last key or common prefix returned (V1's NextMarker). */
  last: string | undefined;
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export class StorageService {
  readonly credentials: CredentialAuthority;
  readonly repo: StorageRepository;
  /** Worker threads that hash large uploads. */
  readonly hashes = new HashPool();
  /** Every bucket: one per enabled region. */
  readonly buckets: ReadonlySet<string> = allBuckets;

  private constructor(
    readonly store: ObjectStore,
    db: Db,
    private readonly clock: Clock,
    private readonly ownsRoot: boolean,
    private readonly log: (line: string) => void,
  ) {
    this.credentials = new CredentialAuthority(db);
    this.repo = new StorageRepository(db);
  }

  /**
   * Opens the storage under `root` (`<dataDir>/storage`), or under a new temporary folder that close() removes
   * when `root` is undefined (an in-memory emulator).
   */
  static async open(options: { root: string | undefined; db: Db; clock: Clock; log?: (line: string) => void }): Promise<StorageService> {
    const root = options.root ?? (await mkdtemp(join(tmpdir(), "htc-emulator-storage-")));
    const store = await ObjectStore.open(root);
    const service = new StorageService(store, options.db, options.clock, options.root === undefined, options.log ?? (() => {}));
    const referenced = service.repo.referencedFiles();
    const removed = await store.collectGarbage((name) => referenced.has(name));
    if (removed > 0) service.log(`storage: removed ${removed} unreferenced blob(s) left by an interrupted upload`);
    return service;
  }

  async close(): Promise<void> {
    await this.hashes.close();
    if (this.ownsRoot) await this.store.destroy();
  }

  /** Receives a body into a verified, durable blob; returns its name, size and MD5. */
  private async receive(source: Readable, plan: BodyPlan): Promise<{ name: string; size: number; md5: Buffer }> {
    let blob: TempBlob;
    try {
      blob = await this.store.receive(source, plan.transforms, plan.observe);
    } catch (error) {
      plan.abort();
      throw error;
    }
    let digest: { md5: Buffer; size: number };
    try {
      digest = await plan.check(blob.size);
    } catch (error) {
      await this.store.discard(blob);
      throw error;
    }
    return { name: await this.store.promote(blob), ...digest };
  }

  private release(files: string[]): void {
    if (files.length === 0) return;
    this.store.remove(files).catch((error: Error) => this.log(`storage: could not remove blobs: ${error.message}`));
  }

  object(bucket: string, key: string): ObjectRow | undefined {
    return this.repo.object(bucket, key);
  }

  /** Stores a body under `key`; `precondition` (a conditional write) is checked again when the object is committed. */
  async putObject(
    bucket: string,
    key: string,
    source: Readable,
    plan: BodyPlan,
    meta: ObjectMeta,
    precondition?: WritePrecondition,
  ): Promise<ObjectRow> {
    // Checked first too, so a write that cannot succeed is refused before its body is received.
    precondition?.(this.repo.object(bucket, key));
    const { name, size, md5 } = await this.receive(source, plan);
    try {
      // Synchronous from the check to the write: no other request can commit the key in between.
      precondition?.(this.repo.object(bucket, key));
    } catch (error) {
      this.release([name]);
      throw error;
    }
    return this.commitObject(bucket, key, [[name, size]], etagOf(md5), meta);
  }

  private commitObject(bucket: string, key: string, segments: Segments, etag: string, meta: ObjectMeta): ObjectRow {
    const row: ObjectRow = {
      bucket,
      key,
      size: segments.reduce((n, [, size]) => n + size, 0),
      etag,
      segments: JSON.stringify(segments),
      content_type: meta.contentType,
      headers: Object.keys(meta.headers).length ? JSON.stringify(meta.headers) : null,
      last_modified: this.clock.now(),
    };
    this.release(this.repo.putObject(row));
    return row;
  }

  async read(row: ObjectRow, start: number, end: number): Promise<Readable> {
    return this.store.read(JSON.parse(row.segments) as Segments, start, end);
  }

  deleteObject(bucket: string, key: string): void {
    this.release(this.repo.deleteObject(bucket, key));
  }

  async copyObject(source: ObjectRow, bucket: string, key: string, meta: ObjectMeta): Promise<ObjectRow> {
    const segments = JSON.parse(source.segments) as Segments;
    const { name, md5 } = await this.copyRange(segments, 0, source.size - 1, !source.etag.includes("-"));
    return this.commitObject(bucket, key, [[name, source.size]], md5 ? etagOf(md5) : source.etag, meta);
  }

  /** Copies bytes start..end into a new blob; computes their MD5 unless `keepEtag` says the source's is right. */
  private async copyRange(segments: Segments, start: number, end: number, keepEtag: boolean): Promise<{ name: string; md5?: Buffer }> {
    let blob: TempBlob;
    let md5: Buffer | undefined;
    if (end < start) {
      blob = await this.store.receive(Readable.from([]), []);
      md5 = createHash("md5").digest();
    } else if (keepEtag) {
      blob = await this.store.copyRange(segments, start, end);
    } else {
      const hash = createHash("md5");
      const hasher = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      blob = await this.store.receive(await this.store.read(segments, start, end), [hasher]);
      md5 = hash.digest();
    }
    return { name: await this.store.promote(blob), ...(md5 ? { md5 } : {}) };
  }

  list(request: ListRequest): ListResult {
    const { bucket, prefix, delimiter, maxKeys, within } = request;
    // The range every visible key shares: the longer of the requested prefix and the scope.
    const range = prefix.length >= within.length ? prefix : within;
    let cursor = request.start ?? { value: range, inclusive: true };
    if (utf8Compare(cursor.value, range) < 0) cursor = { value: range, inclusive: true };
    // A start key inside a group already rolled up into a common prefix skips the rest of that group.
    if (delimiter && request.start) {
      const at = cursor.value.indexOf(delimiter, prefix.length);
      if (cursor.value.startsWith(prefix) && at >= 0) {
        const group = cursor.value.slice(0, at + delimiter.length);
        if (cursor.value !== group || !cursor.inclusive) cursor = { value: prefixEnd(group), inclusive: true };
      }
    }
    const contents: ListedObject[] = [];
    const commonPrefixes: string[] = [];
    let last: string | undefined;
    let truncated = false;
    let count = 0;
    for (;;) {
      if (count >= maxKeys) {
        const probe = this.repo.list(bucket, cursor.value, cursor.inclusive, 1)[0];
        truncated = probe?.key.startsWith(range) ?? false;
        break;
      }
      const limit = Math.min(1000, maxKeys - count);
      const batch = this.repo.list(bucket, cursor.value, cursor.inclusive, limit);
      let ended = batch.length < limit;
      let jumped = false;
      for (const row of batch) {
        if (!row.key.startsWith(range)) {
          ended = true;
          break;
        }
        const at = delimiter ? row.key.indexOf(delimiter, prefix.length) : -1;
        if (at >= 0) {
          const group = row.key.slice(0, at + delimiter.length);
          commonPrefixes.push(group);
          last = group;
          count++;
          cursor = { value: prefixEnd(group), inclusive: true };
          jumped = true;
          break;
        }
        contents.push(row);
        last = row.key;
        count++;
        cursor = { value: row.key, inclusive: false };
      }
      if (jumped) continue;
      if (ended) break;
    }
    return { contents, commonPrefixes, truncated, next: cursor, last };
  }

  // --- multipart uploads ---

  createUpload(bucket: string, key: string, meta: ObjectMeta): string {
    const uploadId = randomBytes(24).toString("base64url");
    this.repo.createUpload({
      upload_id: uploadId,
      bucket,
      key,
      content_type: meta.contentType,
      headers: Object.keys(meta.headers).length ? JSON.stringify(meta.headers) : null,
      created_at: this.clock.now(),
    });
    return uploadId;
  }

  /** The upload `uploadId` of this bucket and key, or NoSuchUpload. */
  upload(bucket: string, key: string, uploadId: string): UploadRow {
    const upload = this.repo.upload(uploadId);
    if (!upload || upload.bucket !== bucket || upload.key !== key) throw s3Errors.noSuchUpload(uploadId);
    return upload;
  }

  async uploadPart(upload: UploadRow, partNumber: number, source: Readable, plan: BodyPlan): Promise<PartRow> {
    const { name, size, md5 } = await this.receive(source, plan);
    return this.commitPart(upload, partNumber, name, size, etagOf(md5));
  }

  async uploadPartCopy(upload: UploadRow, partNumber: number, source: ObjectRow, start: number, end: number): Promise<PartRow> {
    const { name, md5 } = await this.copyRange(JSON.parse(source.segments) as Segments, start, end, false);
    return this.commitPart(upload, partNumber, name, end - start + 1, etagOf(md5!));
  }

  private commitPart(upload: UploadRow, partNumber: number, file: string, size: number, etag: string): PartRow {
    const row: PartRow = { upload_id: upload.upload_id, part_number: partNumber, size, etag, file, last_modified: this.clock.now() };
    const stored = this.repo.putPart(row);
    if (!stored) {
      this.release([file]);
      throw s3Errors.noSuchUpload(upload.upload_id);
    }
    if (stored.replaced) this.release([stored.replaced]);
    return row;
  }

  completeUpload(upload: UploadRow, requested: Array<{ partNumber: number; etag: string }>, precondition?: WritePrecondition): ObjectRow {
    if (requested.length === 0) throw s3Errors.malformedXml();
    // A failed precondition leaves the upload as it was, to be completed or aborted later.
    precondition?.(this.repo.object(upload.bucket, upload.key));
    const stored = new Map(this.repo.allParts(upload.upload_id).map((p) => [p.part_number, p]));
    const chosen: PartRow[] = [];
    let previous = 0;
    for (const { partNumber, etag } of requested) {
      if (partNumber <= previous) throw s3Errors.invalidPartOrder();
      previous = partNumber;
      const part = stored.get(partNumber);
      if (!part || normalizeEtag(part.etag) !== normalizeEtag(etag)) throw s3Errors.invalidPart();
      chosen.push(part);
    }
    chosen.forEach((part, i) => {
      if (i < chosen.length - 1 && part.size < MIN_PART_SIZE) throw s3Errors.entityTooSmall();
    });
    const md5s = Buffer.concat(chosen.map((p) => Buffer.from(normalizeEtag(p.etag), "hex")));
    const etag = `"${createHash("md5").update(md5s).digest("hex")}-${chosen.length}"`;
    const segments: Segments = chosen.map((p) => [p.file, p.size]);
    const row: ObjectRow = {
      bucket: upload.bucket,
      key: upload.key,
      size: segments.reduce((n, [, size]) => n + size, 0),
      etag,
      segments: JSON.stringify(segments),
      content_type: upload.content_type,
      headers: upload.headers,
      last_modified: this.clock.now(),
    };
    const unused = this.repo.completeUpload(upload.upload_id, row, new Set(chosen.map((p) => p.file)));
    if (!unused) throw s3Errors.noSuchUpload(upload.upload_id);
    this.release(unused);
    return row;
  }

  abortUpload(upload: UploadRow): void {
    this.release(this.repo.deleteUpload(upload.upload_id));
  }

  listParts(upload: UploadRow, afterPart: number, maxParts: number): { parts: PartRow[]; truncated: boolean } {
    const rows = this.repo.parts(upload.upload_id, afterPart, maxParts + 1);
    return { parts: rows.slice(0, maxParts), truncated: rows.length > maxParts };
  }

  /** Deletes everything a task stored, in every region's bucket (called when the task is deleted). */
  deleteTaskStorage(projectId: string, taskId: string): void {
    const prefix = scopePrefix({ projectId, taskId });
    for (const bucket of this.buckets) this.release(this.repo.deletePrefix(bucket, prefix));
  }
}
