// Where the dashboard's built files are: the emulator serves them at /ui/ (it finds this package's dist/ through
// its package.json, so this module is only a convenience for other hosts).
import { fileURLToPath } from "node:url";

export const distDir = fileURLToPath(new URL("./dist/", import.meta.url));
