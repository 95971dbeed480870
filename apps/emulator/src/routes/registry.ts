// Container Registry resource: repositories, the `docker login` password, and the images of a project's registry.
// `{repoName}` and `{imageName}` may contain `/`, sent as `%2F` or raw (nothing follows them in their paths).
import { requireProject } from "../domain/projects.js";
import type { AppContext } from "../http/env.js";
import { ApiError, invalidField } from "../errors.js";
import type { HtcApi } from "../http/router.js";
import { parseImageName, registryUri, repoNameProblem } from "../registry/names.js";
import type { ImageStatus } from "../registry/service.js";
import { createRepoBody } from "../schemas/registry.js";

const registryPath = "/htc/projects/{projectId}/container-registry";

/** The `HTCImageError` 404 of getImage. */
function imageError(errorType: "IMAGE_UNAVAILABLE" | "NOT_FOUND", description: string, message: string): ApiError {
  return new ApiError(404, { errorType, errorDescription: description, message });
}

function project(c: AppContext) {
  return requireProject(c.get("core"), c.get("principal"), c.req.param("projectId")!);
}

function containerRegistry(c: AppContext, projectId: string): string {
  return registryUri(c.get("core").urls.registryHost, projectId);
}

export function registerRegistryRoutes(api: HtcApi): void {
  api.add({
    operationId: "getImages",
    method: "GET",
    path: `${registryPath}/images`,
    jobToken: "self",
    handler: async (c) => {
      const { id } = project(c);
      const registry = c.get("registry");
      const { repos } = c.get("core");
      let images: string[];
      try {
        images = await registry.listImages(id);
      } catch (error) {
        // The registry is restarting: answer with what the emulator last knew.
        registry.log(`registry: listing images from the database: ${(error as Error).message}`);
        images = repos.registry.images(id).map((row) => `${row.repository}:${row.tag}`);
      }
      return { containerRegistry: containerRegistry(c, id), images };
    },
  });

  api.add({
    operationId: "getImage",
    method: "GET",
    path: `${registryPath}/images/{imageName}`,
    pathPatterns: { imageName: ".+" },
    jobToken: "self",
    handler: async (c) => {
      const s = c.get("core");
      const registry = c.get("registry");
      const projectId = c.req.param("projectId")!;
      const row = s.repos.projects.get(projectId, c.get("principal").workspace.id);
      if (!row) throw imageError("NOT_FOUND", `projectId: project ${projectId} does not exist`, `Project ${projectId} does not exist.`);
      const name = c.req.param("imageName") ?? "";
      const ref = parseImageName(name, containerRegistry(c, row.id));
      if (!ref) throw invalidField("imageName", "must be <repo>[:<tag>] with a lowercase repository name and a valid tag");
      const image = `${ref.repo}:${ref.tag}`;
      const unavailable = () =>
        imageError("IMAGE_UNAVAILABLE", `imageName: ${image} does not exist in the project's registry`, `Image ${image} is unavailable.`);
      if (!registry.repositoryExists(row.id, ref.repo)) throw unavailable();
      let status: ImageStatus | undefined;
      try {
        status = await registry.imageStatus(row.id, ref.repo, ref.tag);
      } catch (error) {
        registry.log(`registry: status of ${image} from the database: ${(error as Error).message}`);
        const known = s.repos.registry.image(row.id, ref.repo, ref.tag);
        status = known ? registry.statusOf(known) : undefined;
      }
      if (!status) throw unavailable();
      return { status };
    },
  });

  api.add({
    operationId: "createRepo",
    method: "POST",
    path: `${registryPath}/repo/{repoName}`,
    pathPatterns: { repoName: ".+" },
    body: createRepoBody,
    handler: (c) => {
      const s = c.get("core");
      const row = project(c);
      const name = c.req.param("repoName") ?? "";
      const problem = repoNameProblem(row.id, name);
      if (problem) throw invalidField("repoName", problem);
      const created = s.repos.registry.createRepository({
        project_id: row.id,
        name,
        created_by: c.get("principal").user.id,
        created_at: s.clock.now(),
      });
      const repository = s.repos.registry.repository(row.id, name)!;
      return {
        repositoryName: name,
        successfullyCreated: created,
        projectId: row.id,
        createdBy: repository.created_by,
        workspaceId: row.workspace_id,
        registryURI: containerRegistry(c, row.id),
      };
    },
  });

  api.add({
    operationId: "getRegistryToken",
    method: "GET",
    path: `${registryPath}/token`,
    handler: (c) => {
      const row = project(c);
      const { password } = c.get("registry").credentials.issue(row.id, c.get("principal").user.id);
      c.header("Cache-Control", "no-store");
      c.header("Content-Type", "text/plain; charset=utf-8");
      return password;
    },
  });
}
