// Runs this process from the workspace's TypeScript sources, with no build: tsx compiles them, and the
// `@htcemu/source` export condition (first in each workspace package's `exports`) picks src/ over build/.
// For launchers started as `node <file>` (the packages' dev/ scripts), where no --conditions flag can be passed;
// elsewhere `tsx --conditions=@htcemu/source …` or `node --conditions=@htcemu/source --import tsx …` does the same.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
register("./source-condition.mjs", import.meta.url);
