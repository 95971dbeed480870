// Paths of the bundled contract files, for tools that need them on disk.
import { fileURLToPath } from "node:url";

export const contractPath = fileURLToPath(new URL("./dist/openapi.json", import.meta.url));
export const adminContractPath = fileURLToPath(new URL("./dist/admin.json", import.meta.url));
export const surfacePath = fileURLToPath(new URL("./surface.json", import.meta.url));
