// Project resource: projects, dimensions, limits and the project task retention policy.
import { setProjectDimensions } from "../domain/dimensions.js";
import { deleteLimit, deleteLimits, limitView, requireLimit, setLimit, updateLimit } from "../domain/limits.js";
import { requireProjectAdministrator } from "../domain/permissions.js";
import { addRegions, createProject, projectView, requireProject } from "../domain/projects.js";
import { projectPolicyView, putPolicy } from "../domain/retention.js";
import type { AppContext } from "../http/env.js";
import { notFound } from "../http/errors.js";
import { afterSeq, pageBody, pageRequest } from "../http/pagination.js";
import type { OperationRegistry } from "../http/router.js";
import {
  createLimitBody,
  createProjectBody,
  getProjectsQuery,
  projectDimensionsBody,
  retentionPolicyBody,
  updateLimitBody,
  updateProjectBody,
} from "../schemas/projects.js";

const projectPath = "/htc/projects/{projectId}";

function project(c: AppContext) {
  return requireProject(c.var.services, c.var.principal, c.req.param("projectId")!);
}

function view(c: AppContext, row: ReturnType<typeof project>) {
  return projectView(c.var.services, row, c.var.principal.workspace.organization_code);
}

/** `{id}` of the limit operations: an int32; anything else cannot name a limit. */
function limitId(c: AppContext): number {
  // Plain decimal digits only: "1e0", "0x1" or " 1" name no limit.
  const raw = c.req.param("id") ?? "";
  const id = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(id <= 2147483647)) throw notFound(`No limit has id ${raw}.`);
  return id;
}

export function registerProjectRoutes(api: OperationRegistry): void {
  api.add({
    operationId: "getProjects",
    method: "GET",
    path: "/htc/projects",
    query: getProjectsQuery,
    handler: (c, { query }) => {
      const page = pageRequest(query);
      const { principal } = c.var;
      const rows = c.var.services.repos.projects.page(
        principal.workspace.id,
        afterSeq(page),
        page.size + 1,
        query.onlyMyProjects ? principal.user.id : undefined,
      );
      return c.json(pageBody(c, rows, page, (r) => r.seq, (r) => view(c, r)));
    },
  });

  api.add({
    operationId: "createProject",
    method: "POST",
    path: "/htc/projects",
    body: createProjectBody,
    handler: (c, { body }) => c.json(view(c, createProject(c.var.services, c.var.principal, body))),
  });

  api.add({
    operationId: "getProject",
    method: "GET",
    path: projectPath,
    jobToken: "self",
    handler: (c) => c.json(view(c, project(c))),
  });

  api.add({
    operationId: "updateProject",
    method: "PATCH",
    path: projectPath,
    body: updateProjectBody,
    handler: (c, { body }) => {
      const row = project(c);
      requireProjectAdministrator(c.var.principal, row.created_by, "change the project's regions");
      return c.json(view(c, addRegions(c.var.services, row, body.regions ?? [])));
    },
  });

  api.add({
    operationId: "getProjectDimensions",
    method: "GET",
    path: `${projectPath}/dimensions`,
    handler: (c) => c.json(c.var.services.repos.projects.dimensions(project(c).id)),
  });

  api.add({
    operationId: "createProjectDimensions",
    method: "PUT",
    path: `${projectPath}/dimensions`,
    body: projectDimensionsBody,
    handler: (c, { body }) => c.json(setProjectDimensions(c.var.services, c.var.principal, project(c), body), 201),
  });

  api.add({
    operationId: "getProjectLimits",
    method: "GET",
    path: `${projectPath}/limits`,
    handler: (c) => c.json(c.var.services.repos.projects.limits(project(c).id).map(limitView)),
  });

  api.add({
    operationId: "createProjectLimit",
    method: "POST",
    path: `${projectPath}/limits`,
    body: createLimitBody,
    handler: (c, { body }) =>
      c.json(limitView(setLimit(c.var.services, c.var.principal, project(c), body.modifierRole, body.vCPUs)), 201),
  });

  api.add({
    operationId: "deleteProjectLimits",
    method: "DELETE",
    path: `${projectPath}/limits`,
    handler: (c) => {
      deleteLimits(c.var.services, c.var.principal, project(c));
      return c.body(null, 204);
    },
  });

  api.add({
    operationId: "getProjectLimit",
    method: "GET",
    path: `${projectPath}/limits/{id}`,
    handler: (c) => c.json(limitView(requireLimit(c.var.services, project(c), limitId(c)))),
  });

  api.add({
    operationId: "updateProjectLimit",
    method: "PATCH",
    path: `${projectPath}/limits/{id}`,
    body: updateLimitBody,
    handler: (c, { body }) => {
      const row = project(c);
      return c.json(limitView(updateLimit(c.var.services, c.var.principal, row, limitId(c), body.vCPUs)));
    },
  });

  api.add({
    operationId: "deleteProjectLimit",
    method: "DELETE",
    path: `${projectPath}/limits/{id}`,
    handler: (c) => {
      const row = project(c);
      deleteLimit(c.var.services, c.var.principal, row, limitId(c));
      return c.body(null, 204);
    },
  });

  api.add({
    operationId: "getProjectTaskRetentionPolicy",
    method: "GET",
    path: `${projectPath}/task-retention-policy`,
    handler: (c) => {
      const row = project(c);
      const policy = c.var.services.repos.projects.retention("project", row.id);
      if (!policy) throw notFound(`Project ${row.id} has no task retention policy of its own.`);
      return c.json(projectPolicyView(policy));
    },
  });

  api.add({
    operationId: "putProjectTaskRetentionPolicy",
    method: "PUT",
    path: `${projectPath}/task-retention-policy`,
    body: retentionPolicyBody,
    handler: (c, { body }) => {
      const row = project(c);
      requireProjectAdministrator(c.var.principal, row.created_by, "set the project's retention policy");
      return c.json(projectPolicyView(putPolicy(c.var.services, "project", row.id, body)), 201);
    },
  });

  api.add({
    operationId: "deleteProjectTaskRetentionPolicy",
    method: "DELETE",
    path: `${projectPath}/task-retention-policy`,
    handler: (c) => {
      const row = project(c);
      requireProjectAdministrator(c.var.principal, row.created_by, "remove the project's retention policy");
      c.var.services.repos.projects.deleteRetention("project", row.id);
      return c.body(null, 204);
    },
  });
}
