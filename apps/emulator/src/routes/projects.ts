// Project resource: projects, dimensions, limits and the project task retention policy.
import { projectDimensions, setProjectDimensions } from "../domain/dimensions.js";
import { deleteLimit, deleteLimits, limitView, requireLimit, setLimit, updateLimit } from "../domain/limits.js";
import { requireProjectAdministrator } from "../domain/permissions.js";
import { addRegions, createProject, projectView, requireProject } from "../domain/projects.js";
import { projectPolicyView, putPolicy } from "../domain/retention.js";
import type { AppContext } from "../http/env.js";
import { notFound } from "../errors.js";
import { afterSeq, pageBody, pageRequest } from "../http/pagination.js";
import type { HtcApi } from "../http/router.js";
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
  return requireProject(c.get("core"), c.get("principal"), c.req.param("projectId")!);
}

function view(c: AppContext, row: ReturnType<typeof project>) {
  return projectView(c.get("core"), row, c.get("principal").workspace.organization_code);
}

/** `{id}` of the limit operations: an int32; anything else cannot name a limit. */
function limitId(c: AppContext): number {
  // Plain decimal digits only: "1e0", "0x1" or " 1" name no limit.
  const raw = c.req.param("id") ?? "";
  const id = /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(id <= 2147483647)) throw notFound(`No limit has id ${raw}.`);
  return id;
}

export function registerProjectRoutes(api: HtcApi): void {
  api.add({
    operationId: "getProjects",
    method: "GET",
    path: "/htc/projects",
    query: getProjectsQuery,
    handler: (c, { query }) => {
      const page = pageRequest(query);
      const principal = c.get("principal");
      const rows = c
        .get("core")
        .repos.projects.page(principal.workspace.id, afterSeq(page), page.size + 1, query.onlyMyProjects ? principal.user.id : undefined);
      return pageBody(
        c,
        rows,
        page,
        (r) => r.seq,
        (r) => view(c, r),
      );
    },
  });

  api.add({
    operationId: "createProject",
    method: "POST",
    path: "/htc/projects",
    body: createProjectBody,
    handler: (c, { body }) => view(c, createProject(c.get("core"), c.get("principal"), body)),
  });

  api.add({
    operationId: "getProject",
    method: "GET",
    path: projectPath,
    jobToken: "self",
    handler: (c) => view(c, project(c)),
  });

  api.add({
    operationId: "updateProject",
    method: "PATCH",
    path: projectPath,
    body: updateProjectBody,
    handler: (c, { body }) => {
      const row = project(c);
      requireProjectAdministrator(c.get("principal"), row.created_by, "change the project's regions");
      return view(c, addRegions(c.get("core"), row, body.regions ?? []));
    },
  });

  api.add({
    operationId: "getProjectDimensions",
    method: "GET",
    path: `${projectPath}/dimensions`,
    handler: (c) => projectDimensions(c.get("core"), project(c)),
  });

  api.add({
    operationId: "createProjectDimensions",
    status: 201,
    method: "PUT",
    path: `${projectPath}/dimensions`,
    body: projectDimensionsBody,
    handler: (c, { body }) => setProjectDimensions(c.get("core"), c.get("principal"), project(c), body),
  });

  api.add({
    operationId: "getProjectLimits",
    method: "GET",
    path: `${projectPath}/limits`,
    handler: (c) => c.get("core").repos.projects.limits(project(c).id).map(limitView),
  });

  api.add({
    operationId: "createProjectLimit",
    status: 201,
    method: "POST",
    path: `${projectPath}/limits`,
    body: createLimitBody,
    handler: (c, { body }) => limitView(setLimit(c.get("core"), c.get("principal"), project(c), body.modifierRole, body.vCPUs)),
  });

  api.add({
    operationId: "deleteProjectLimits",
    status: 204,
    method: "DELETE",
    path: `${projectPath}/limits`,
    handler: (c) => {
      deleteLimits(c.get("core"), c.get("principal"), project(c));
    },
  });

  api.add({
    operationId: "getProjectLimit",
    method: "GET",
    path: `${projectPath}/limits/{id}`,
    handler: (c) => limitView(requireLimit(c.get("core"), project(c), limitId(c))),
  });

  api.add({
    operationId: "updateProjectLimit",
    method: "PATCH",
    path: `${projectPath}/limits/{id}`,
    body: updateLimitBody,
    handler: (c, { body }) => {
      const row = project(c);
      return limitView(updateLimit(c.get("core"), c.get("principal"), row, limitId(c), body.vCPUs));
    },
  });

  api.add({
    operationId: "deleteProjectLimit",
    status: 204,
    method: "DELETE",
    path: `${projectPath}/limits/{id}`,
    handler: (c) => {
      const row = project(c);
      deleteLimit(c.get("core"), c.get("principal"), row, limitId(c));
    },
  });

  api.add({
    operationId: "getProjectTaskRetentionPolicy",
    method: "GET",
    path: `${projectPath}/task-retention-policy`,
    handler: (c) => {
      const row = project(c);
      const policy = c.get("core").repos.projects.retention("project", row.id);
      if (!policy) throw notFound(`Project ${row.id} has no task retention policy of its own.`);
      return projectPolicyView(policy);
    },
  });

  api.add({
    operationId: "putProjectTaskRetentionPolicy",
    status: 201,
    method: "PUT",
    path: `${projectPath}/task-retention-policy`,
    body: retentionPolicyBody,
    handler: (c, { body }) => {
      const row = project(c);
      requireProjectAdministrator(c.get("principal"), row.created_by, "set the project's retention policy");
      return projectPolicyView(putPolicy(c.get("core"), "project", row.id, body));
    },
  });

  api.add({
    operationId: "deleteProjectTaskRetentionPolicy",
    status: 204,
    method: "DELETE",
    path: `${projectPath}/task-retention-policy`,
    handler: (c) => {
      const row = project(c);
      requireProjectAdministrator(c.get("principal"), row.created_by, "remove the project's retention policy");
      c.get("core").repos.projects.deleteRetention("project", row.id);
    },
  });
}
