// The routes a ceiling server answers: the emulator's paths (Hono patterns such as
// `/api/v1/htc/projects/:projectId`) with the exact bodies the emulator answered them with, read from a JSON file
// the bench writes. Shared by the bare servers and the bench.
import { readFileSync } from "node:fs";

export interface FixedRoute {
  method: "GET" | "POST";
  pattern: string;
  status: 200 | 201;
  body: unknown;
}

export function readRoutes(file: string | undefined): FixedRoute[] {
  if (!file) throw new Error("usage: <server> <port> <routes.json>");
  return JSON.parse(readFileSync(file, "utf8")) as FixedRoute[];
}

/** A pattern as a regular expression over the path (the query is not part of it). */
export function patternRegExp(pattern: string): RegExp {
  const source = pattern
    .split("/")
    .map((part) => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`);
}
