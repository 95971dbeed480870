// The request inspector's operations (tag Inspector of admin.yaml): its state, the list with filters, one request
// with headers and bodies, the live stream and the HAR export. Everything leaves through the inspector's redacted
// views (inspector/inspector.ts).
import { streamSSE } from "hono/streaming";
import { isoTime } from "../clock.js";
import { notFound } from "../errors.js";
import type { AppContext } from "../http/env.js";
import type { AdminApi } from "../http/router.js";
import { toHar } from "../inspector/har.js";
import { type InspectorFilter, matcher, type Slot } from "../inspector/inspector.js";
import { inspectorFilterQuery, inspectorListQuery } from "../schemas/admin.js";
import { EMULATOR_VERSION } from "../version.js";
import { keepAlive, SSE_HEARTBEAT_MS } from "./sse.js";

type FilterQuery = InspectorFilter;

/** Past this many entries waiting for a slow stream reader, the oldest are dropped (the list still has them). */
const STREAM_QUEUE_LIMIT = 5000;

export function registerInspectorRoutes(api: AdminApi): void {
  api.add({
    operationId: "getInspectorState",
    method: "GET",
    path: "/inspector",
    auth: "none",
    handler: (c) => {
      const inspector = c.get("inspector");
      return { capacity: inspector.capacity, bodyLimit: inspector.bodyLimit, held: inspector.held, recorded: inspector.recorded };
    },
  });

  api.add({
    operationId: "listInspectedRequests",
    method: "GET",
    path: "/inspector/requests",
    auth: "none",
    query: inspectorListQuery,
    handler: (c, { query }) => {
      const inspector = c.get("inspector");
      const items = [];
      for (const entry of inspector.newestFirst(query, query.after ?? 0)) {
        items.push(inspector.summaryOf(entry));
        if (items.length >= query.limit) break;
      }
      return { items, held: inspector.held, recorded: inspector.recorded };
    },
  });

  api.add({
    operationId: "clearInspectedRequests",
    method: "DELETE",
    path: "/inspector/requests",
    status: 204,
    auth: "none",
    handler: (c) => {
      c.get("inspector").clear();
    },
  });

  api.add({
    operationId: "getInspectedRequest",
    method: "GET",
    path: "/inspector/requests/{requestId}",
    auth: "none",
    handler: (c) => {
      const inspector = c.get("inspector");
      const raw = c.req.param("requestId")!;
      const entry = /^\d{1,15}$/.test(raw) ? inspector.get(Number(raw)) : undefined;
      if (!entry) throw notFound(`The inspector holds no request ${raw} (it keeps the last ${inspector.capacity}).`);
      return inspector.detailOf(entry);
    },
  });

  api.add({
    operationId: "exportInspectedRequestsHar",
    method: "GET",
    path: "/inspector/har",
    auth: "none",
    query: inspectorFilterQuery,
    handler: (c, { query }) => {
      const inspector = c.get("inspector");
      const entries = [...inspector.newestFirst(query)].reverse().map((e) => inspector.detailOf(e));
      const stamp = isoTime(c.get("core").clock.now()).replace(/[:.]/g, "-");
      c.header("Content-Disposition", `attachment; filename="htc-emulator-${stamp}.har"`);
      return toHar(entries, c.get("core").urls.root, EMULATOR_VERSION);
    },
  });

  api.add({
    operationId: "streamInspectedRequests",
    method: "GET",
    path: "/inspector/stream",
    auth: "none",
    query: inspectorFilterQuery,
    handler: (c, { query }) => streamRequests(c, query),
  });
}

function streamRequests(c: AppContext, filter: FilterQuery): Response {
  const inspector = c.get("inspector");
  const matches = matcher(filter);
  const lastId = Number(c.req.header("last-event-id"));
  return streamSSE(c, async (stream) => {
    // Entries are serialized when they are recorded: the ring reuses its slots.
    type Event = { id: number; data: string };
    const event = (entry: Slot): Event => ({ id: entry.id, data: JSON.stringify(inspector.summaryOf(entry)) });
    const queue: Event[] =
      Number.isSafeInteger(lastId) && lastId >= 0 ? [...inspector.newestFirst(filter, lastId)].reverse().map(event) : [];
    let wake: (() => void) | undefined;
    let closed = false;
    const unsubscribe = inspector.subscribe((entry) => {
      if (!matches(entry)) return;
      queue.push(event(entry));
      if (queue.length > STREAM_QUEUE_LIMIT) queue.shift();
      wake?.();
    });
    stream.onAbort(() => {
      closed = true;
      unsubscribe();
      wake?.();
    });
    // Tell the client at once that the stream is open (and how long to wait before reconnecting).
    await stream.writeSSE({ event: "ready", data: JSON.stringify({ recorded: inspector.recorded }), retry: 2000 });
    while (!closed) {
      while (queue.length > 0 && !closed) {
        const next = queue.shift()!;
        await stream.writeSSE({ event: "request", id: String(next.id), data: next.data });
      }
      if (closed) break;
      await keepAlive(stream, SSE_HEARTBEAT_MS, (resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    unsubscribe();
  });
}
