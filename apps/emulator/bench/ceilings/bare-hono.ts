// A bare Hono app on @hono/node-server (the emulator's versions, started the way the emulator starts its server)
// answering the emulator's routes with fixed bodies: the ceiling of the stack the emulator is built on (routing,
// JSON in and out, the Node adapter) with none of the emulator's work (no authentication, no database).
//   node --import tsx bench/ceilings/bare-hono.ts <port> <routes.json>
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { readRoutes } from "./routes.js";

const [port, file] = process.argv.slice(2);
const app = new Hono();
for (const route of readRoutes(file)) {
  if (route.method === "GET") app.get(route.pattern, (c) => c.json(route.body as object, route.status));
  else {
    app.post(route.pattern, async (c) => {
      await c.req.json(); // a write reads and parses its body, as the emulator's do
      return c.json(route.body as object, route.status);
    });
  }
}
serve({ fetch: app.fetch, port: Number(port), hostname: "127.0.0.1" });
