// Lint: SQL lives only under src/db/ (repositories, migrations, database files). Run by `pnpm lint`.
//
// What counts, in a file of src/ outside src/db/ (found in the syntax tree, so comments, regular expressions
// and `RegExp.prototype.exec` do not count):
//   1. importing the SQLite driver (`better-sqlite3`, types included): a Statement or a Database can only be
//      held where the driver is known;
//   2. a call of `.prepare`, `.prepared`, `.exec` or `.pragma` whose first argument is text (a string or
//      template literal, or a concatenation with one), on any receiver;
//   3. any call on the database handle (a receiver named `db`, or ending in `.db`) other than `transaction`
//      and `close`: `db.prepare(sql)` with the text in a variable is SQL too;
//   4. any string or template literal that starts like an SQL statement (`SELECT`, `INSERT INTO`,
//      `UPDATE x SET`, `DELETE FROM`, `CREATE TABLE`…, in capitals as this code base writes SQL), wherever it
//      is: SQL built in one place and run in another is still SQL.
// Allowed: `db.transaction(fn)` in domain code. It holds no SQL: it makes the repository calls inside `fn` one
// unit of work (a submission and its task's activity, a retention sweep), which is a decision of the domain.
// Not seen: the handle under another name with the SQL in a variable (`const d = s.db; d.prepare(text)`); a
// typed check would see it, at the cost of a whole type-checked program in every lint.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export interface Finding {
  line: number;
  message: string;
}

const SQL_METHODS = new Set(["prepare", "prepared", "exec", "pragma"]);
const SQL_START =
  /^\s*(SELECT\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\S+\s+SET\s|DELETE\s+FROM\s|REPLACE\s+INTO\s|(CREATE|DROP|ALTER)\s+(TABLE|INDEX|TRIGGER|VIEW)\s|PRAGMA\s|ATTACH\s|DETACH\s|WITH\s+\w+\s+AS\s*\()/;
const HANDLE_METHODS_ALLOWED = new Set(["transaction", "close"]);

function isText(node: ts.Expression): boolean {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateExpression(node)) return true;
  if (ts.isParenthesizedExpression(node)) return isText(node.expression);
  return ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken && (isText(node.left) || isText(node.right));
}

function isDatabaseHandle(node: ts.Expression): boolean {
  return (ts.isIdentifier(node) && node.text === "db") || (ts.isPropertyAccessExpression(node) && node.name.text === "db");
}

/** The places in one source file that break the rule. */
export function sqlOutsideDb(fileName: string, text: string): Finding[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const findings: Finding[] = [];
  const report = (node: ts.Node, message: string) =>
    findings.push({ line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, message });
  const visit = (node: ts.Node) => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node)) && SQL_START.test(node.text)) {
      report(node, "SQL text");
    }
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      if (node.moduleSpecifier.text === "better-sqlite3") report(node, "imports the SQLite driver");
    } else if (ts.isCallExpression(node)) {
      const [first] = node.arguments;
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword && first && ts.isStringLiteral(first) && first.text === "better-sqlite3") {
        report(node, "imports the SQLite driver");
      } else if (ts.isPropertyAccessExpression(node.expression)) {
        const method = node.expression.name.text;
        if (SQL_METHODS.has(method) && first && isText(first)) report(node, `.${method}() with SQL text`);
        else if (isDatabaseHandle(node.expression.expression) && !HANDLE_METHODS_ALLOWED.has(method)) report(node, `calls db.${method}()`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return findings;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every finding under `src` (outside `src/db`), as `file:line: message`. */
export function checkTree(src: string): string[] {
  const lines: string[] = [];
  for (const file of sourceFiles(src)) {
    const path = relative(src, file);
    if (path.split(sep)[0] === "db") continue;
    for (const finding of sqlOutsideDb(file, readFileSync(file, "utf8")))
      lines.push(`src/${path.split(sep).join("/")}:${finding.line}: ${finding.message}`);
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const found = checkTree(fileURLToPath(new URL("../src", import.meta.url)));
  if (found.length) {
    console.error(`SQL outside src/db/ (put it in a repository under src/db/repositories/):\n${found.map((l) => `  ${l}`).join("\n")}`);
    process.exit(1);
  }
  console.log("SQL home: no SQL outside src/db/");
}
