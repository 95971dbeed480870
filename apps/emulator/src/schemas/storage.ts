// Request schemas of the storage operations (openapi/src/45-storage.yaml).
import { z } from "zod";

/** `filePath`: relative to the folder the operation addresses; no leading `/`, no `..` segment. */
export const storageFilePath = z
  .string()
  .min(1)
  .regex(/^(?!\/)(?!(?:[\s\S]*\/)?\.\.(?:\/|$))[\s\S]+$/, "must be relative: no leading '/' and no '..' segment");

export const presignedUrlQuery = z.object({
  filePath: storageFilePath,
  method: z.enum(["PUT", "GET"]).default("PUT"),
});
