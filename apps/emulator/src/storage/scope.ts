// What authenticated credentials may reach (access.ts authenticates them): one bucket and one folder, a task's
// folder or a project's shared folder; the credentials of a presigned URL reach one object with one method.
import type { StorageScope } from "./credentials.js";
import { s3Errors } from "./errors.js";
import type { AuthInfo } from "./signature.js";

/** An authenticated caller: how the request was signed and what the credentials reach. */
export interface Access {
  auth: AuthInfo;
  scope: StorageScope;
  secretAccessKey: string;
  /** The one bucket the credentials address. */
  bucket: string;
  /** The folder they reach, e.g. `projects/<p>/tasks/<t>/`. */
  prefix: string;
}

/** Object operations: the key must be inside the credentials' folder (and be the presigned URL's object). */
export function checkObjectAccess(access: Access, bucket: string, key: string, method: string, plainObjectOperation: boolean): void {
  if (bucket !== access.bucket || !key.startsWith(access.prefix)) throw s3Errors.accessDenied();
  const only = access.scope.object;
  if (only && (!plainObjectOperation || only.key !== key || only.method !== method)) {
    throw s3Errors.accessDenied("A presigned URL reaches only its own object, with its own method.");
  }
}

/** Listing: the prefix must be inside the folder, or lead to it (then only the folder's keys are listed). */
export function checkListAccess(access: Access, bucket: string, prefix: string): void {
  if (bucket !== access.bucket || access.scope.object) throw s3Errors.accessDenied();
  if (!prefix.startsWith(access.prefix) && !access.prefix.startsWith(prefix)) throw s3Errors.accessDenied();
}

export function checkBucketAccess(access: Access, bucket: string): void {
  if (bucket !== access.bucket || access.scope.object) throw s3Errors.accessDenied();
}
