// Where jobs get their images when project registries exist: an `imageName` `repo:tag` (or the project's full
// registry address followed by it) is looked up in the project's registry first; only when that has no such image
// does the emulator fall back to `base` (the local Docker engine's images, or the simulation's).
//
// A registry image runs as `<registryHost>/rescale/<projectId>/<repo>@<digest>`: pinned to the digest the tag had
// when the job started, so a re-pushed tag is pulled again instead of the engine's cached copy being used, with
// credentials of the project for the pull. When the tag vanished between submission and start, the job gets the
// tag's reference to pull, which fails, so the job fails with ErrorStartingContainer.
//
// References to the emulator's registry outside the job's project are refused, never looked up in the engine:
// its cache may hold another project's pulls.
import type { ProjectRow } from "../db/repositories/projects.js";
import type { ImageCatalog, ImageState, ResolvedImage } from "../jobs/images.js";
import { fullRepositoryName, type ImageRef, parseImageName, registryUri } from "./names.js";
import type { RegistryService } from "./service.js";

export function registryImages(registry: RegistryService, base: ImageCatalog, log: (line: string) => void): ImageCatalog {
  /** The registry image `imageName` names for `project`, `foreign` for another project's, or undefined. */
  const lookup = (project: ProjectRow, imageName: string): ImageRef | "foreign" | undefined => {
    const r = registry;
    const host = r.host;
    if (!r.enabled || !host) return undefined;
    const ref = parseImageName(imageName, registryUri(host, project.id));
    if (!ref) return imageName.startsWith(`${host}/`) ? "foreign" : undefined;
    return r.repositoryExists(project.id, ref.repo) ? ref : undefined;
  };

  return {
    async state(project, imageName): Promise<ImageState> {
      const ref = lookup(project, imageName);
      if (ref === "foreign") return "missing";
      if (ref) {
        try {
          const status = await registry.imageStatus(project.id, ref.repo, ref.tag);
          if (status) return status === "READY" ? "ready" : "pending";
        } catch (error) {
          log(`registry: could not look up ${ref.repo}:${ref.tag}: ${(error as Error).message}`);
        }
      }
      return base.state(project, imageName);
    },

    async resolve(project, imageName): Promise<ResolvedImage> {
      const ref = lookup(project, imageName);
      // Submission refuses these; never let the engine's cache serve one.
      if (ref === "foreign") throw new Error(`image ${imageName} belongs to another project's registry`);
      if (!ref) return base.resolve(project, imageName);
      const r = registry;
      const repository = `${r.host}/${fullRepositoryName(project.id, ref.repo)}`;
      let digest: string | undefined;
      try {
        digest = await r.currentDigest(project.id, ref.repo, ref.tag);
      } catch (error) {
        log(`registry: could not look up ${ref.repo}:${ref.tag} for a job: ${(error as Error).message}`);
      }
      if (!digest && (await base.state(project, imageName)) === "ready") return base.resolve(project, imageName);
      return { image: digest ? `${repository}@${digest}` : `${repository}:${ref.tag}`, auth: r.pullAuth(project.id) };
    },
  };
}
