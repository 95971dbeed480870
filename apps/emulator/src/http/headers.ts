// A request header, read from Node's own request when the app runs on @hono/node-server: `c.req.header()`
// makes the adapter build a whole Fetch `Headers` object from the raw headers first, which costs more than the
// rest of a cached-token read's authentication. Elsewhere (app.request() in tests) Hono's reading is used. The
// request's connection, for what authentication remembers per connection, comes from there too.
import type { IncomingMessage } from "node:http";
import type { Context } from "hono";

export function requestHeader(c: Context, name: Lowercase<string>): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** The connection (socket) a request came on, when served by Node; undefined elsewhere (app.request()). */
export function requestConnection(c: Context): object | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket ?? undefined;
}
