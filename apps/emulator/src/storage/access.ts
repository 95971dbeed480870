// Who is calling the S3 endpoint. Every request must be signed (SigV4 or SigV2, header or query: signature.ts)
// with credentials this emulator issued, carry their session token, and be within their expiry and (for presigned
// URLs) the URL's own, by the emulator's clock. Credentials of a deleted task, or of a project that no longer
// exists, stop working at once. What the credentials reach is checked per operation (scope.ts).
import type { Core } from "../core.js";
import { s3Errors } from "./errors.js";
import { scopeBucket, scopePrefix } from "./layout.js";
import type { RequestView } from "./request-view.js";
import type { Access } from "./scope.js";
import { parseAuth, presignedExpiry, verifySignature } from "./signature.js";

export async function authenticate(
  s: Pick<Core, "storage" | "clock" | "repos">,
  view: RequestView,
  query: Record<string, string | string[]>,
): Promise<Access> {
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
