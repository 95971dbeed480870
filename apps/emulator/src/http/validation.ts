// Reading request input through zod schemas. A failure becomes a 400 naming the first offending field, in the
// contract's `HTCRequestError` body; nothing reaches the domain layer unvalidated.
import type { z } from "zod";
import type { AppContext } from "./env.js";
import { invalidField } from "../errors.js";

/** Largest JSON body accepted; a full submit (100 batches with long definitions) stays far below it. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix = ""): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = formatPath([...(prefix ? [prefix] : []), ...issue.path]);
  throw invalidField(path, describeIssue(issue));
}

/** `["a", 0, "b"]` → `a[0].b`; `[0, "b"]` → `[0].b`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let path = "";
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else path += path ? `.${String(segment)}` : String(segment);
  }
  return path;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      // zod does not keep the input by default; its message says what was received.
      if (/received undefined/.test(issue.message)) return "is required";
      return `must be ${issue.expected === "int" ? "an integer" : article(issue.expected)}`;
    case "too_small":
      return issue.origin === "array"
        ? `must have at least ${issue.minimum} item(s)`
        : issue.origin === "string"
          ? `must be at least ${issue.minimum} character(s) long`
          : `must be ${issue.inclusive === false ? "greater than" : "at least"} ${issue.minimum}`;
    case "too_big":
      return issue.origin === "array"
        ? `must have at most ${issue.maximum} item(s)`
        : issue.origin === "string"
          ? `must be at most ${issue.maximum} character(s) long`
          : `must be ${issue.inclusive === false ? "less than" : "at most"} ${issue.maximum}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return issue.format === "regex" ? "has an invalid format" : `must be a valid ${issue.format}`;
    case "unrecognized_keys":
      return `has unknown field(s) ${issue.keys.join(", ")}`;
    default:
      return issue.message;
  }
}

function isJsonMediaType(type: string): boolean {
  const media = type.split(";")[0]!.trim().toLowerCase();
  return media === "application/json" || media.endsWith("+json");
}

function article(noun: string): string {
  return `${/^[aeiou]/.test(noun) ? "an" : "a"} ${noun}`;
}

/** The JSON body, validated. An empty body counts as `undefined`, so schemas decide whether it is optional. */
export async function jsonBody<S extends z.ZodType>(c: AppContext, schema: S): Promise<z.output<S>> {
  const length = Number(c.req.header("content-length") ?? "0");
  if (length > MAX_BODY_BYTES) throw invalidField("(body)", `is larger than ${MAX_BODY_BYTES} bytes`);
  const text = await c.req.text();
  const exchange = c.get("exchange");
  if (exchange) exchange.requestText = text;
  if (text.length > MAX_BODY_BYTES) throw invalidField("(body)", `is larger than ${MAX_BODY_BYTES} bytes`);
  let value: unknown;
  if (text.trim() !== "") {
    // The contract declares JSON bodies only; a body sent as anything else was not meant for this API.
    const type = c.req.header("content-type");
    if (type !== undefined && !isJsonMediaType(type)) {
      throw invalidField("(body)", `must be sent as application/json, not ${type.split(";")[0]!.trim()}`);
    }
    try {
      value = JSON.parse(text);
    } catch {
      throw invalidField("(body)", "is not valid JSON");
    }
  }
  return parseWith(schema, value);
}

/**
 * Query parameters, validated. Each key maps to its values: schemas for single-valued parameters see the first
 * value (clients that re-send their parameters while following `next` repeat identical keys), array parameters
 * see every distinct value.
 */
export function queryParams<S extends z.ZodType>(c: AppContext, schema: S, arrays: readonly string[] = []): z.output<S> {
  const all = c.req.queries();
  const input: Record<string, unknown> = {};
  for (const [key, values] of Object.entries(all)) {
    input[key] = arrays.includes(key) ? [...new Set(values)] : values[0];
  }
  return parseWith(schema, input);
}

/** A path parameter, decoded (Hono decodes `%3A` and `%2F`). */
export function pathParam(c: AppContext, name: string): string {
  return c.req.param(name) ?? "";
}
