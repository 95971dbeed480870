// The core must run outside Node (browsers, Deno, workers): only src/node.ts may import Node built-ins.
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const srcDir = join(import.meta.dirname, "..", "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

function importedSpecifiers(text: string): string[] {
  const specifiers: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^"']*?from\s*["']([^"']+)["']/g)) specifiers.push(m[1] ?? "");
  for (const m of text.matchAll(/\b(?:import|require)\s*\(\s*["']([^"']+)["']\s*\)/g)) specifiers.push(m[1] ?? "");
  return specifiers;
}

describe("portability", () => {
  const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

  it("finds the imports of the source files", () => {
    const specifiers = importedSpecifiers(readFileSync(join(srcDir, "node.ts"), "utf8"));
    expect(specifiers).toContain("node:fs");
    expect(specifiers).toContain("ini");
  });

  it("imports Node built-ins and `process` only in src/node.ts", () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(srcDir)) {
      const name = relative(srcDir, file);
      if (name === "node.ts") continue;
      const text = readFileSync(file, "utf8");
      for (const spec of importedSpecifiers(text)) if (builtins.has(spec) || spec === "ini") offenders.push(`${name}: ${spec}`);
      if (/\bprocess\.(env|cwd|argv|platform)\b/.test(text)) offenders.push(`${name}: process`);
    }
    expect(offenders).toEqual([]);
  });
});
