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
} from "../domain/storage.js";
import type { AppContext } from "../http/env.js";
import type { OperationRegistry } from "../http/router.js";
import { presignedUrlQuery } from "../schemas/storage.js";
import { pathTask } from "./tasks.js";

const projectStorage = "/htc/projects/{projectId}/storage";
const taskStorage = "/htc/projects/{projectId}/tasks/{taskId}/storage";

function project(c: AppContext) {
  return requireProject(c.var.services, c.var.principal, c.req.param("projectId")!);
}

function task(c: AppContext) {
  const { project, task } = pathTask(c);
  return { project, task: requireLiveTask(task) };
}

export function registerStorageRoutes(api: OperationRegistry): void {
  api.add({
    operationId: "getProjectStorageToken",
    method: "GET",
    path: `${projectStorage}/token`,
    jobToken: "self",
    handler: (c) => {
      const p = project(c);
      return c.json(storageAccessToken(c.var.services, c, p, null, defaultRegion(p)));
    },
  });

  api.add({
    operationId: "getProjectStorageTokenForRegion",
    method: "GET",
    path: `${projectStorage}/token/{region}`,
    jobToken: "self",
    handler: (c) => {
      const p = project(c);
      return c.json(storageAccessToken(c.var.services, c, p, null, projectRegion(p, c.req.param("region")!)));
    },
  });

  api.add({
    operationId: "getProjectStorageTokens",
    method: "GET",
    path: `${projectStorage}/tokens`,
    jobToken: "self",
    handler: (c) => c.json(storageAccessTokens(c.var.services, c, project(c), null)),
  });

  api.add({
    operationId: "getProjectPresignedUrl",
    method: "GET",
    path: `${projectStorage}/presigned-url`,
    jobToken: "self",
    query: presignedUrlQuery,
    handler: async (c, { query }) => c.json(await presignedUrl(c.var.services, c, project(c), null, query.filePath, query.method)),
  });

  api.add({
    operationId: "getTaskStorageToken",
    method: "GET",
    path: `${taskStorage}/token`,
    jobToken: "self",
    handler: (c) => {
      const t = task(c);
      return c.json(storageAccessToken(c.var.services, c, t.project, t.task, defaultRegion(t.project)));
    },
  });

  api.add({
    operationId: "getTaskStorageTokenForRegion",
    method: "GET",
    path: `${taskStorage}/token/{region}`,
    jobToken: "self",
    handler: (c) => {
      const t = task(c);
      return c.json(storageAccessToken(c.var.services, c, t.project, t.task, projectRegion(t.project, c.req.param("region")!)));
    },
  });

  api.add({
    operationId: "getTaskStorageTokens",
    method: "GET",
    path: `${taskStorage}/tokens`,
    jobToken: "self",
    handler: (c) => {
      const t = task(c);
      return c.json(storageAccessTokens(c.var.services, c, t.project, t.task));
    },
  });

  api.add({
    operationId: "getTaskRegionalStorage",
    method: "GET",
    path: `${taskStorage}/regional-storage`,
    jobToken: "self",
    handler: (c) => {
      const t = task(c);
      return c.json(regionalStorage(c.var.services, c, t.project, t.task));
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
      return c.json(await presignedUrl(c.var.services, c, t.project, t.task, query.filePath, query.method));
    },
  });
}
