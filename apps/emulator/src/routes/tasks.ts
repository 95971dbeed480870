// Task resource: create, list, get, archive/reactivate, delete.
import { requireProject } from "../domain/projects.js";
import { changeLifecycle, createTask, deleteTask, requireTask, taskView } from "../domain/tasks.js";
import type { AppContext } from "../http/env.js";
import { afterSeq, pageBody, pageRequest } from "../http/pagination.js";
import type { HtcApi } from "../http/router.js";
import { createTaskBody, getTasksQuery, updateTaskBody } from "../schemas/tasks.js";

export const taskPath = "/htc/projects/{projectId}/tasks/{taskId}";

export function pathTask(c: AppContext) {
  return requireTask(c.get("core"), c.get("principal"), c.req.param("projectId")!, c.req.param("taskId")!);
}

export function registerTaskRoutes(api: HtcApi): void {
  api.add({
    operationId: "getTasks",
    method: "GET",
    path: "/htc/projects/{projectId}/tasks",
    query: getTasksQuery,
    handler: (c, { query }) => {
      const project = requireProject(c.get("core"), c.get("principal"), c.req.param("projectId")!);
      const page = pageRequest(query);
      const rows = c.get("core").repos.tasks.page(project.id, afterSeq(page), page.size + 1);
      return pageBody(c, rows, page, (r) => r.seq, taskView);
    },
  });

  api.add({
    operationId: "createTask",
    method: "POST",
    path: "/htc/projects/{projectId}/tasks",
    body: createTaskBody,
    handler: (c, { body }) => {
      const project = requireProject(c.get("core"), c.get("principal"), c.req.param("projectId")!);
      return taskView(createTask(c.get("core"), c.get("principal"), project, body.taskName, body.taskDescription));
    },
  });

  api.add({
    operationId: "getTask",
    method: "GET",
    path: taskPath,
    jobToken: "self",
    handler: (c) => taskView(pathTask(c).task),
  });

  api.add({
    operationId: "updateTask",
    method: "PATCH",
    path: taskPath,
    body: updateTaskBody,
    handler: (c, { body }) => taskView(changeLifecycle(c.get("core"), c.get("jobs"), pathTask(c).task, body.lifecycleStatus)),
  });

  api.add({
    operationId: "deleteTask",
    method: "DELETE",
    path: taskPath,
    handler: (c) => taskView(deleteTask(c.get("core"), c.get("jobs"), pathTask(c).task)),
  });
}
