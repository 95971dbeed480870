// A request header, read from Node's own request when the app runs on @hono/node-server: `c.req.header()`
// makes the adapter build a whole Fetch `Headers` object from the raw headers first, which costs more than the
// rest of a cached-token read's authentication. Elsewhere (app.request() in tests) Hono's reading is used.
import type { IncomingMessage } from "node:http";
import type { Context } from "hono";

export function requestHeader(c: Context, name: Lowercase<string>): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}
