// The code blocks of the README's "Use it in your project" section. Each is preceded by a marker line,
// `<!-- outside-test: <what> -->` (`install`, `start`, `htc`, or `file <path>`), that tells the tests how to run
// it; a block without one fails the tests, so every snippet users copy is run.
import { readFileSync } from "node:fs";

export interface Snippet {
  /** What the marker says: "install", "start", "htc", "file flow.mjs", … */
  marker: string;
  lang: string;
  code: string;
}

const readmePath = new URL("../../../README.md", import.meta.url);

export function outsideSnippets(): Snippet[] {
  const readme = readFileSync(readmePath, "utf8");
  const start = readme.indexOf("\n## Use it in your project\n");
  if (start < 0) throw new Error('the README has no "## Use it in your project" section');
  const next = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  const snippets: Snippet[] = [];
  const fence = /(?:<!-- outside-test: (.+?) -->\n)?```(\w*)\n([\s\S]*?)\n```/g;
  for (const m of section.matchAll(fence)) {
    const [, marker, lang = "", code = ""] = m;
    if (!marker) throw new Error(`a code block of "Use it in your project" has no outside-test marker:\n${code}`);
    snippets.push({ marker, lang, code: `${code}\n` });
  }
  return snippets;
}

/** The one snippet with this marker. */
export function snippet(snippets: Snippet[], marker: string): Snippet {
  const found = snippets.filter((s) => s.marker === marker);
  if (found.length !== 1) throw new Error(`expected one README snippet marked "${marker}", found ${found.length}`);
  return found[0]!;
}

/** The command lines of a shell snippet, without comments. */
export function commandLines(code: string): string[] {
  return code
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line && !line.startsWith("#"));
}
