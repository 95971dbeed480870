// Who is calling the S3 endpoint and what they may reach. Every request must be signed (SigV4 or SigV2, header or
// query: signature.ts) with credentials this emulator issued, carry their session token, and be within their
// expiry and (for presigned URLs) the URL's own, by the emulator's clock. Credentials reach one bucket and one
// folder: a task's folder, or a project's shared folder; presigned URLs reach one object with one method.
// Credentials of a deleted task, or of a project that no longer exists, stop working at once.
import type { Services } from "../services.js";
import { type StorageScope, scopeBucket, scopePrefix } from "./credentials.js";
import { s3Errors } from "./errors.js";
import type { RequestView } from "./request-view.js";
import { type AuthInfo, parseAuth, presignedExpiry, verifySignature } from "./signature.js";

export interface Access {
  auth: AuthInfo;
  scope: StorageScope;
  secretAccessKey: string;
  /** The one bucket the credentials address. */
  bucket: string;
  /** The folder they reach, e.g. `projects/<p>/tasks/<t>/`. */
  prefix: string;
}

export async function authenticate(s: Services, view: RequestView, query: Record<string, string | string[]>): Promise<Access> {
  const auth = parseAuth(view, query);
  if (!auth) throw s3Errors.accessDenied("Anonymous access is not allowed: sign requests with the credentials of a storage token.");
  if (!auth.sessionToken) throw s3Errors.missingToken();
  const { scope, secretAccessKey } = s.storage.credentials.open(auth.accessKeyId, auth.sessionToken);
  const now = s.clock.now();
  const urlExpiry = presignedExpiry(auth);
  if (urlExpiry !== undefined && urlExpiry <= now) throw s3Errors.requestExpired(urlExpiry, now);
  if (scope.expiresAt <= now) throw s3Errors.expiredToken();
  await verifySignature(view, query, auth, secretAccessKey);
  if (!s.repos.projects.get(scope.projectId, scope.workspaceId)) throw s3Errors.accessDenied("The credentials' project no longer exists.");
  if (scope.taskId) {
    const task = s.repos.tasks.get(scope.taskId, scope.projectId);
    if (!task || task.lifecycle_status === "DELETED") throw s3Errors.accessDenied("The credentials' task has been deleted.");
  }
  return { auth, scope, secretAccessKey, bucket: scopeBucket(scope), prefix: scopePrefix(scope) };
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
