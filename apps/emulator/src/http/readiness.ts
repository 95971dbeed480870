// The readiness probe, `GET /_emulator/ready`: 200 once the emulator serves requests and its scheduler runs, 503
// while it starts or stops. Answered by the Node server ahead of the application, so a probe every second (the
// container image's HEALTHCHECK, Kubernetes, testcontainers) costs almost nothing, never counts in metrics, never
// meets a fault rule, and needs no admin token when the emulator listens off loopback. It reveals nothing but
// the phase and the version.
import type { IncomingMessage, ServerResponse } from "node:http";
import { EMULATOR_VERSION } from "../version.js";

export const READY_PATH = "/_emulator/ready";

export type ReadinessPhase = "starting" | "ready" | "stopping";

export class Readiness {
  phase: ReadinessPhase = "starting";

  /** Answers the probe and returns true; returns false for every other request. */
  answer(request: IncomingMessage, response: ServerResponse): boolean {
    const url = request.url ?? "";
    const path = url.includes("?") ? url.slice(0, url.indexOf("?")) : url;
    if (path !== READY_PATH) return false;
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD", "content-type": "application/json" });
      response.end(JSON.stringify({ error: "method_not_allowed", errorDescription: `${READY_PATH} answers GET and HEAD.` }));
      return true;
    }
    const ready = this.phase === "ready";
    const body = JSON.stringify({ status: this.phase, version: EMULATOR_VERSION });
    response.writeHead(ready ? 200 : 503, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
      ...(ready ? {} : { "retry-after": "1" }),
    });
    response.end(request.method === "HEAD" ? undefined : body);
    return true;
  }
}
