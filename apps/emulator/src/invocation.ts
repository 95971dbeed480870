// Where the user ran the command from. Kept free of heavy imports: the `htc` CLI loads it on every start.
import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The folder relative paths of flags are resolved from: the user's shell. `pnpm emulator` and `pnpm htc` run the
 * script inside the package's folder and pass the folder pnpm was invoked from as INIT_CWD. That variable is
 * inherited by every child process, so it only counts while we run as that package script (cwd is the package).
 */
export function invocationDir(cwd = process.cwd(), environment: NodeJS.ProcessEnv = process.env): string {
  const { INIT_CWD: initCwd, npm_package_name: packageName } = environment;
  if (!initCwd || !packageName) return cwd;
  try {
    const manifest = JSON.parse(readFileSync(join(cwd, "package.json"), "utf8")) as { name?: string };
    return manifest.name === packageName ? initCwd : cwd;
  } catch {
    return cwd;
  }
}
