// Task resource: create, list, get, archive/reactivate, delete.
import { requireProject } from "../domain/projects.js";
import { changeLifecycle, createTask, deleteTask, requireTask, taskView } from "../domain/tasks.js";
import type { AppContext } from "../http/env.js";
import { afterSeq, pageBody, pageRequest } from "../http/pagination.js";
import type { OperationRegistry } from "../http/router.js";
import { createTaskBody, getTasksQuery, updateTaskBody } from "../schemas/tasks.js";

export const taskPath = "/htc/projects/{projectId}/tasks/{taskId}";

export function pathTask(c: AppContext) {
  return requireTask(c.var.services, c.var.principal, c.req.param("projectId")!, c.req.param("taskId")!);
}

export function registerTaskRoutes(api: OperationRegistry): void {
  api.add({
    operationId: "getTasks",
    method: "GET",
    path: "/htc/projects/{projectId}/tasks",
    query: getTasksQuery,
    handler: (c, { query }) => {
      const project = requireProject(c.var.services, c.var.principal, c.req.param("projectId")!);
      const page = pageRequest(query);
      const rows = c.var.services.repos.tasks.page(project.id, afterSeq(page), page.size + 1);
      return c.json(pageBody(c, rows, page, (r) => r.seq, taskView));
    },
  });

  api.add({
    operationId: "createTask",
    method: "POST",
    path: "/htc/projects/{projectId}/tasks",
    body: createTaskBody,
    handler: (c, { body }) => {
      const project = requireProject(c.var.services, c.var.principal, c.req.param("projectId")!);
      return c.json(taskView(createTask(c.var.services, c.var.principal, project, body.taskName, body.taskDescription)));
    },
  });

  api.add({
    operationId: "getTask",
    method: "GET",
    path: taskPath,
    jobToken: "self",
    handler: (c) => c.json(taskView(pathTask(c).task)),
  });

  api.add({
    operationId: "updateTask",
    method: "PATCH",
    path: taskPath,
    body: updateTaskBody,
    handler: (c, { body }) => c.json(taskView(changeLifecycle(c.var.services, pathTask(c).task, body.lifecycleStatus))),
  });

  api.add({
    operationId: "deleteTask",
    method: "DELETE",
    path: taskPath,
    handler: (c) => c.json(taskView(deleteTask(c.var.services, pathTask(c).task))),
  });
}
