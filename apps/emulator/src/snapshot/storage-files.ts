// The small interface between snapshots / reset and the storage subsystem (src/storage): object bytes are files
// named by the database (`storage_objects.segments`, `storage_parts.file`), kept by ObjectStore under
// `<root>/objects/<name>` with names `<xx>/<uuid>` that are never reused, so a file of a given name always holds
// the same bytes. Snapshots carry those files; reset and import remove the ones no row names any more.
import { copyFile, link, mkdir, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Db } from "../db/database.js";
import { StorageRepository } from "../db/repositories/storage.js";
import type { StorageService } from "../storage/service.js";

/** Blob names as ObjectStore makes them; anything else in a snapshot is refused (no path escapes the root). */
export const BLOB_NAME = /^[A-Za-z0-9_-]{1,16}\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** Where the blob `name` lives. */
export function blobPath(storage: StorageService, name: string): string {
  return join(storage.store.root, "objects", name);
}

/** A folder for staging files next to the blobs (same file system; ObjectStore empties tmp/ on every start). */
export function stagingRoot(storage: StorageService): string {
  return join(storage.store.root, "tmp");
}

/** The blobs the rows of `db` name (the live database, or a snapshot's). */
export function referencedBlobs(db: Db): Set<string> {
  return new StorageRepository(db).referencedFiles();
}

/** Links (or copies) a file, e.g. a blob into a snapshot being written, so that it cannot vanish meanwhile. */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await link(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw error;
    await copyFile(from, to);
  }
}

/** Moves a staged blob into the store; a blob of the same name already there is the same blob. */
export async function installBlob(storage: StorageService, name: string, staged: string): Promise<void> {
  const target = blobPath(storage, name);
  await mkdir(dirname(target), { recursive: true });
  try {
    await rename(staged, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
    await copyFile(staged, target);
    await unlink(staged).catch(() => {});
  }
}

/** Removes the blobs of `before` that the live rows no longer name. */
export async function removeUnreferenced(storage: StorageService, db: Db, before: Set<string>): Promise<number> {
  const now = referencedBlobs(db);
  const gone = [...before].filter((name) => !now.has(name));
  await storage.store.remove(gone);
  return gone.length;
}
