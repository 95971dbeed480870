// Where job images come from. Until a project registry holds the image, the emulator runs images of the local
// Docker engine by the name the job gives (`repo:tag`); the simulated executor accepts any valid name.
import type { ProjectRow } from "../db/repositories/projects.js";

/** The image's state as the project's registry (or the local engine) reports it. */
export type ImageState = "ready" | "pending" | "missing";

export interface ResolvedImage {
  /** The reference the engine runs. */
  image: string;
  auth?: { username: string; password: string; serveraddress: string };
}

export interface ImageCatalog {
  state(project: ProjectRow, imageName: string): Promise<ImageState>;
  resolve(project: ProjectRow, imageName: string): Promise<ResolvedImage>;
}

/** Any valid name is runnable: nothing is really run. */
export const simulatedImages: ImageCatalog = {
  state: async () => "ready",
  resolve: async (_project, imageName) => ({ image: imageName }),
};

/** Images of the local engine, checked with `exists` (cached briefly: submissions repeat the same few images). */
export function localImages(exists: (image: string) => Promise<boolean>, log: (line: string) => void): ImageCatalog {
  const cache = new Map<string, { ok: boolean; until: number }>();
  const announced = new Set<string>();
  return {
    async state(_project, imageName) {
      const hit = cache.get(imageName);
      if (hit && hit.until > Date.now()) return hit.ok ? "ready" : "missing";
      const ok = await exists(imageName);
      cache.set(imageName, { ok, until: Date.now() + (ok ? 10_000 : 1_000) });
      return ok ? "ready" : "missing";
    },
    async resolve(_project, imageName) {
      if (!announced.has(imageName)) {
        announced.add(imageName);
        log(`jobs use the local Docker image ${imageName} (no project registry holds it)`);
      }
      return { image: imageName };
    },
  };
}
