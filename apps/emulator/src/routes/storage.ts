// Storage operations of projects and tasks: credentials (default region, one region, every region), the
// regional overview of a task, and presigned URLs. Job tokens may call all of them for their own project and task.
import { requireProject } from "../domain/projects.js";
import {
  presignedUrl,
  projectRegion,
  regionalStorage,
  requireLiveTask,
  storageAccessToken,
  storageAccessTokens,
  defaultRegion,
  type StorageAsker,
} from "../domain/storage.js";
import type { AppContext } from "../http/env.js";
import { storageEndpointUrl } from "../http/origin.js";
import type { HtcApi } from "../http/router.js";
import { presignedUrlQuery } from "../schemas/storage.js";
import { pathTask } from "./tasks.js";

const projectStorage = "/htc/projects/{projectId}/storage";
const taskStorage = "/htc/projects/{projectId}/tasks/{taskId}/storage";

function project(c: AppContext) {
  return requireProject(c.get("core"), c.get("principal"), c.req.param("projectId")!);
}

/** The caller, and the S3 endpoint as it reaches the emulator. */
function asker(c: AppContext): StorageAsker {
  return { principal: c.get("principal"), endpointUrl: storageEndpointUrl(c) };
}

function task(c: AppContext) {
  const { project, task } = pathTask(c);
  return { project, task: requireLiveTask(task) };
}

export function registerStorageRoutes(api: HtcApi): void {
  api.add({
    operationId: "getProjectStorageToken",
    method: "GET",
    path: `${projectStorage}/token`,
    jobToken: "self",
    handler: (c) => {
      const p = project(c);
      return storageAccessToken(c.get("core"), asker(c), p, null, defaultRegion(p));
    },
  });

  api.add({
    operationId: "getProjectStorageTokenForRegion",
    method: "GET",
    path: `${projectStorage}/token/{region}`,
    jobToken: "self",
    handler: (c) => {
      const p = project(c);
      return storageAccessToken(c.get("core"), asker(c), p, null, projectRegion(p, c.req.param("region")!));
    },
  });

  api.add({
    operationId: "getProjectStorageTokens",
    method: "GET",
    path: `${projectStorage}/tokens`,
    jobToken: "self",
    handler: (c) => storageAccessTokens(c.get("core"), asker(c), project(c), null),
  });

  api.add({
    operationId: "getProjectPresignedUrl",
    method: "GET",
    path: `${projectStorage}/presigned-url`,
    jobToken: "self",
    query: presignedUrlQuery,
    handler: (c, { query }) => presignedUrl(c.get("core"), asker(c), project(c), null, query.filePath, query.method),
  });

  api.add({
    operationId: "getTaskStorageToken",
    method: "GET",
    path: `${taskStorage}/token`,
    jobToken: "self",
    handler: (c) => {
      const t = task(c);
      return storageAccessToken(c.get("core"), asker(c), t.project, t.task, defaultRegion(t.project));
    },
  });

  api.add({
    operationId: "getTaskStorageTokenForRegion",
    method: "GET",
    path: `${taskStorage}/token/{region}`,
    jobToken: "self",
    handler: (c) => {
      const t = task(c);
      return storageAccessToken(c.get("core"), asker(c), t.project, t.task, projectRegion(t.project, c.req.param("region")!));
    },
  });

  api.add({
    operationId: "getTaskStorageTokens",
    method: "GET",
    path: `${taskStorage}/tokens`,
    jobToken: "self",
    handler: (c) => {
      const t = task(c);
      return storageAccessTokens(c.get("core"), asker(c), t.project, t.task);
    },
  });

  api.add({
    operationId: "getTaskRegionalStorage",
    method: "GET",
    path: `${taskStorage}/regional-storage`,
    jobToken: "self",
    handler: (c) => {
      const t = task(c);
      return regionalStorage(c.get("core"), asker(c), t.project, t.task);
    },
  });

  api.add({
    operationId: "getTaskPresignedUrl",
    method: "GET",
    path: `${taskStorage}/presigned-url`,
    jobToken: "self",
    query: presignedUrlQuery,
    handler: async (c, { query }) => {
      const t = task(c);
      return await presignedUrl(c.get("core"), asker(c), t.project, t.task, query.filePath, query.method);
    },
  });
}
