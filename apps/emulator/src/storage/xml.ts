// S3's XML bodies. Requests are parsed with fast-xml-parser: values are always text (no number guessing: keys like
// "001" and ETags stay as they are) and whitespace inside values is kept. Answers are written by renderXml below:
// they are elements only (plus the root's namespace), and a listing of 1,000 keys is on the hot path, where a
// general builder cost a third of the request; test/xml.test.ts checks the output against fast-xml-parser's builder.
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { s3Errors } from "./errors.js";

export const S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/";

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  removeNSPrefix: true,
  isArray: (name) => name === "Object" || name === "Part",
});

export type XmlValue = string | number | boolean | undefined | XmlNode | XmlValue[];
export interface XmlNode {
  [element: string]: XmlValue;
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };
const escapeText = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

function writeMember(out: string[], name: string, value: XmlValue): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) writeMember(out, name, item);
    return;
  }
  out.push(`<${name}>`);
  if (typeof value === "object") writeNode(out, value);
  else out.push(escapeText(String(value)));
  out.push(`</${name}>`);
}

function writeNode(out: string[], node: XmlNode): void {
  for (const name of Object.keys(node)) writeMember(out, name, node[name]);
}

/** `<?xml …?><Root xmlns="…">…</Root>`; undefined members are left out, arrays repeat their element. */
export function renderXml(root: string, content: XmlNode, namespace = true): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', namespace ? `<${root} xmlns="${S3_NAMESPACE}">` : `<${root}>`];
  writeNode(out, content);
  out.push(`</${root}>`);
  return out.join("");
}

/** Parses a request body; anything that is not well-formed XML with the expected root is MalformedXML. */
export function parseXml(text: string, root: string): Record<string, unknown> {
  if (XMLValidator.validate(text) !== true) throw s3Errors.malformedXml();
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(text) as Record<string, unknown>;
  } catch {
    throw s3Errors.malformedXml();
  }
  const node = parsed[root];
  if (!node || typeof node !== "object") throw s3Errors.malformedXml();
  return node as Record<string, unknown>;
}

/** The text of a child element (trimmed of the whitespace of pretty-printed XML where `trim` is set). */
export function textOf(node: unknown, name: string, trim = false): string | undefined {
  if (!node || typeof node !== "object") return undefined;
  const value = (node as Record<string, unknown>)[name];
  if (value === undefined || value === null) return undefined;
  const text = typeof value === "object" ? String((value as Record<string, unknown>)["#text"] ?? "") : String(value);
  return trim ? text.trim() : text;
}

/** S3's timestamp format in XML bodies: `2024-04-02T12:00:00.000Z`. */
export function xmlTime(ms: number): string {
  return new Date(ms).toISOString();
}
