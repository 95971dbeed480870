// Storage as the HTC API hands it out: temporary credentials for a project's shared folder or a task's folder
// (one set per region), the regional overview of a task, and presigned URLs for single objects. The layout is
// production's (storage/layout.ts). The emulator's S3-compatible endpoint (`endpointUrl`) serves them all; the
// caller says where it reaches it, so nothing here depends on a request.
import { isoTime } from "../clock.js";
import type { Core } from "../core.js";
import type { ProjectRow } from "../db/repositories/projects.js";
import type { TaskRow } from "../db/repositories/tasks.js";
import { notFound } from "../errors.js";
import type { StorageCredentials } from "../storage/credentials.js";
import { S3_PREFIX, s3Uri, scopeBucket, scopePrefix, storageNameOf } from "../storage/layout.js";
import { presignUrl } from "../storage/sigv4.js";
import { providerOf, type Region } from "./catalog.js";
import type { Principal } from "./principal.js";
import { regionsOf } from "./projects.js";

/** How long credentials and presigned URLs issued by the API stay valid. */
export const STORAGE_CREDENTIAL_SECONDS = 3600;
/** The cloud account the emulator's credentials act in (`user` is `<account>:<userId>`). */
export const STORAGE_ACCOUNT_ID = "000000000000";

/** Who asks for storage access, and the S3-compatible endpoint as they reach the emulator. */
export interface StorageAsker {
  principal: Principal;
  endpointUrl: string;
}

/** The project's default region: the first of its regions. */
export function defaultRegion(project: ProjectRow): Region {
  return regionsOf(project)[0]!;
}

/** `{region}` of the path, which must be one of the project's regions (404 otherwise). */
export function projectRegion(project: ProjectRow, region: string): Region {
  const found = regionsOf(project).find((r) => r === region);
  if (!found) throw notFound(`Region ${region} is not enabled for project ${project.id}.`);
  return found;
}

/** Storage operations answer 404 for a deleted task. */
export function requireLiveTask(task: TaskRow): TaskRow {
  if (task.lifecycle_status === "DELETED") throw notFound(`Task ${task.id} has been deleted; its storage is gone.`);
  return task;
}

interface Owner {
  workspaceId: string;
  projectId: string;
  userId: string;
}

function issue(
  s: Core,
  owner: Owner,
  taskId: string | null,
  region: string,
  lifetimeSeconds: number,
  object?: { key: string; method: "GET" | "PUT" },
): StorageCredentials {
  return s.storage.credentials.issue({
    ...owner,
    taskId,
    region,
    expiresAt: s.clock.now() + lifetimeSeconds * 1000,
    ...(object ? { object } : {}),
  });
}

function ownerOf(principal: Principal, project: ProjectRow): Owner {
  return { workspaceId: project.workspace_id, projectId: project.id, userId: principal.user.id };
}

function credentialsView(credentials: StorageCredentials) {
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  };
}

/** `StorageAccessToken`: credentials for the shared folder (task null) or a task's folder in one region. */
export function storageAccessToken(s: Core, asker: StorageAsker, project: ProjectRow, task: TaskRow | null, region: Region) {
  const { principal } = asker;
  const credentials = issue(s, ownerOf(principal, project), task?.id ?? null, region, STORAGE_CREDENTIAL_SECONDS);
  const bucket = storageNameOf(region);
  const shared = s3Uri(bucket, scopePrefix({ projectId: project.id, taskId: null }));
  return {
    projectSharedStoragePath: shared,
    storagePath: s3Uri(bucket, scopePrefix({ projectId: project.id, taskId: task?.id ?? null })),
    projectId: project.id,
    storageName: bucket,
    region,
    user: `${STORAGE_ACCOUNT_ID}:${principal.user.id}`,
    expiration: isoTime(credentials.scope.expiresAt),
    credentials: credentialsView(credentials),
    provider: providerOf(region),
    endpointUrl: asker.endpointUrl,
  };
}

/** `StorageAccessTokens`: one set per region of the project, in the project's order. */
export function storageAccessTokens(s: Core, asker: StorageAsker, project: ProjectRow, task: TaskRow | null) {
  return {
    defaultRegion: defaultRegion(project),
    regionStores: regionsOf(project).map((region) => storageAccessToken(s, asker, project, task, region)),
  };
}

/** `RegionalStorageResponse` of a task. */
export function regionalStorage(s: Core, asker: StorageAsker, project: ProjectRow, task: TaskRow) {
  const owner = ownerOf(asker.principal, project);
  return {
    rescaleRegion: defaultRegion(project),
    regionalStores: regionsOf(project).map((region) => {
      const bucket = storageNameOf(region);
      return {
        region,
        projectPath: s3Uri(bucket, scopePrefix({ projectId: project.id, taskId: null })),
        taskPath: s3Uri(bucket, scopePrefix({ projectId: project.id, taskId: task.id })),
        credentials: credentialsView(issue(s, owner, task.id, region, STORAGE_CREDENTIAL_SECONDS)),
        provider: providerOf(region),
        endpointUrl: asker.endpointUrl,
      };
    }),
  };
}

/** `PresignedPutUrlResponse`: a URL for one object of the shared folder or a task's folder, default region. */
export async function presignedUrl(
  s: Core,
  asker: StorageAsker,
  project: ProjectRow,
  task: TaskRow | null,
  filePath: string,
  method: "GET" | "PUT",
) {
  const region = defaultRegion(project);
  const key = scopePrefix({ projectId: project.id, taskId: task?.id ?? null }) + filePath;
  const credentials = issue(s, ownerOf(asker.principal, project), task?.id ?? null, region, STORAGE_CREDENTIAL_SECONDS, { key, method });
  const url = await presignUrl({
    endpointUrl: asker.endpointUrl,
    method,
    bucket: scopeBucket(credentials.scope),
    key,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    sessionToken: credentials.sessionToken,
    signingDate: new Date(s.clock.now()),
    expiresSeconds: STORAGE_CREDENTIAL_SECONDS,
  });
  return { url, storageName: scopeBucket(credentials.scope), region, expiration: isoTime(credentials.scope.expiresAt) };
}

/**
 * What a job's container needs to use its storage: task-folder credentials for the job's region (valid for the
 * job's whole time limit plus an hour, since a job cannot ask for new ones without the API), the endpoint as the
 * container reaches it, and the two folders as s3:// URIs. Project-shared credentials come from the API with the
 * job token (`GET …/storage/token`).
 */
export function jobStorageEnvironment(
  s: Core,
  job: { workspaceId: string; projectId: string; taskId: string; userId: string; region: string; timeoutSeconds: number },
  apiUrlForJobs: string,
): Record<string, string> {
  const credentials = issue(
    s,
    { workspaceId: job.workspaceId, projectId: job.projectId, userId: job.userId },
    job.taskId,
    job.region,
    Math.max(STORAGE_CREDENTIAL_SECONDS, job.timeoutSeconds + STORAGE_CREDENTIAL_SECONDS),
  );
  const endpoint = new URL(apiUrlForJobs);
  endpoint.pathname = S3_PREFIX;
  endpoint.search = "";
  const endpointUrl = endpoint.toString().replace(/\/$/, "");
  const bucket = storageNameOf(job.region);
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_ENDPOINT_URL: endpointUrl,
    AWS_ENDPOINT_URL_S3: endpointUrl,
    TASK_SHARED_FOLDER: s3Uri(bucket, scopePrefix({ projectId: job.projectId, taskId: job.taskId })),
    PROJECT_SHARED_FOLDER: s3Uri(bucket, scopePrefix({ projectId: job.projectId, taskId: null })),
  };
}
