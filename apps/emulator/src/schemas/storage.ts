// Request schemas of the storage operations (openapi/src/45-storage.yaml).
import { z } from "zod";

/**
 * `filePath`: relative to the folder the operation addresses. The contract (like upstream) asks only for a
 * non-empty string; a leading `/` or a `..` segment would name a key outside that folder, so it answers 400.
 */
export const storageFilePath = z
  .string()
  .min(1)
  .refine((path) => !path.startsWith("/") && !path.split("/").includes(".."), "must be relative: no leading '/' and no '..' segment");

export const presignedUrlQuery = z.object({
  filePath: storageFilePath,
  method: z.enum(["PUT", "GET"]).default("PUT"),
});
