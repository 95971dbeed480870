// A bare node:http server answering the emulator's routes with fixed bodies: the ceiling of Node's HTTP stack on
// this machine, below any framework. Each answer serialises the body (as any JSON API does); a write reads and
// parses its request body first.
//   node --import tsx bench/ceilings/bare-node.ts <port> <routes.json>
import { createServer, type ServerResponse } from "node:http";
import { patternRegExp, readRoutes } from "./routes.js";

const [port, file] = process.argv.slice(2);
const routes = readRoutes(file).map((route) => ({ ...route, regExp: patternRegExp(route.pattern) }));

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0]!;
  const route = routes.find((r) => r.method === req.method && r.regExp.test(path));
  if (!route) return answer(res, 404, { error: "not found" });
  if (req.method === "GET") return answer(res, route.status, route.body);
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return answer(res, 400, { error: "bad JSON" });
    }
    answer(res, route.status, route.body);
  });
}).listen(Number(port), "127.0.0.1");
