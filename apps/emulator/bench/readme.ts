// The README's table of figures beside the peers', written by `pnpm bench -- --write-readme` between two markers
// in the repository's README.md: every row that carries a comparison, from the scenarios that ran.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { machine, passes, type Row } from "./common.js";
import { repositoryRoot } from "./peers.js";

export const README = join(repositoryRoot, "README.md");
export const BEGIN = "<!-- bench:peers:begin (written by `pnpm bench -- --write-readme`; do not edit by hand) -->";
export const END = "<!-- bench:peers:end -->";

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");

export function readmeBlock(rows: Row[], options: { quick: boolean; note?: string; seconds: number }): string {
  const facts = new Map(machine().map((m) => [m.label, m.value]));
  const lines = [
    BEGIN,
    `Measured by \`pnpm bench -- --write-readme\` on \`${facts.get("host")}\` (${facts.get("CPU")}, ${facts.get("cores")?.split(" ")[0]} cores, Node ${facts.get("node")}) on ${facts.get("date")?.slice(0, 10)}; load average at the end ${facts.get("load average")}; ${options.quick ? "quick mode (sizes shrunk: not figures to quote)" : "full sizes"}, ${Math.round(options.seconds)} s.${options.note ? ` ${options.note}` : ""}`,
    "",
    "| work | the emulator | each peer: its figure → the emulator ÷ the peer |",
    "|---|---:|---|",
  ];
  // One line per piece of work, its peers side by side in the cell.
  const groups = new Map<string, { emulator: string; peers: string[] }>();
  for (const row of rows) {
    const c = row.comparison;
    if (!c) continue;
    const verdict = passes(row);
    const target = c.target ? ` (target ${c.target}${verdict === undefined ? "" : verdict ? ", met" : ", missed"})` : "";
    const ratio = c.ratio === undefined ? "" : ` → ${c.ratio.toFixed(2)}×`;
    const group = groups.get(c.what) ?? { emulator: c.emulator, peers: [] };
    group.peers.push(`${cell(c.peer)}: ${cell(c.peerFigure)}${ratio}${target}`);
    groups.set(c.what, group);
  }
  for (const [what, group] of groups) lines.push(`| ${cell(what)} | ${cell(group.emulator)} | ${group.peers.join("<br>")} |`);
  lines.push("", END);
  return lines.join("\n");
}

/**
 * Replaces the block between the markers (which must be there, each once) in README.md, then lays the file out with
 * the repository's formatter (Biome aligns the table's columns), so `pnpm lint` accepts what the bench wrote.
 */
export async function writeReadmeBlock(block: string, file = README): Promise<void> {
  const text = await readFile(file, "utf8");
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin || text.indexOf(BEGIN, begin + 1) >= 0)
    throw new Error(`${file} needs the markers ${BEGIN} … ${END}, once each`);
  await writeFile(file, text.slice(0, begin) + block + text.slice(end + END.length));
  await promisify(execFile)(join(repositoryRoot, "node_modules", ".bin", "biome"), ["format", "--write", file], { cwd: repositoryRoot });
}
