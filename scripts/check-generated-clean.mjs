// Fails when the committed generated files (bundled contract, its TypeScript types) differ from what `generate`
// produces now: someone changed openapi/src without regenerating, or edited generated output by hand.
import { execFileSync } from "node:child_process";

const generated = ["openapi/dist", "openapi/types"];
const status = execFileSync("git", ["status", "--porcelain", "--", ...generated], { encoding: "utf8" }).trim();
if (status) {
  console.error("Generated files are stale. Run `pnpm generate` and commit the result:\n" + status);
  process.exit(1);
}
console.log("generated files are up to date");
