// Server-sent events from the emulator's live feeds, read with fetch (so the dashboard's header and the admin
// cookie go along) and parsed by eventsource-parser. A dropped stream is opened again after a short wait, with
// Last-Event-ID so that nothing is sent twice; a feed that ended on purpose (a finished job's logs) is not.
import { createParser } from "eventsource-parser";
import { connectionFailed, DASHBOARD_HEADERS } from "./connection.js";

export interface FeedEvent {
  event: string;
  data: string;
  id: string | undefined;
}

export interface FeedHandlers {
  onEvent(event: FeedEvent): void;
  /** The stream is open (again). */
  onOpen?(): void;
  /** The stream broke; it is opened again after a short wait. */
  onDrop?(): void;
  /** The emulator answered with an error status (the feed is not retried); its body is passed on. */
  onRefused?(status: number, body: unknown): void;
  /** The stream ended by itself (an `end` event, or the server closed it). */
  onEnd?(): void;
}

/** Follows `url` until the returned function is called. */
export function follow(url: string, handlers: FeedHandlers, options: { endEvent?: string } = {}): () => void {
  const controller = new AbortController();
  let lastId: string | undefined;
  let retryMs = 1000;
  let ended = false;

  const run = async () => {
    while (!controller.signal.aborted && !ended) {
      try {
        const headers: Record<string, string> = { ...DASHBOARD_HEADERS, Accept: "text/event-stream" };
        if (lastId !== undefined) headers["Last-Event-ID"] = lastId;
        const response = await fetch(url, { headers, signal: controller.signal, cache: "no-store" });
        if (!response.ok || !response.body) {
          const text = await response.text().catch(() => "");
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // keep the text
          }
          handlers.onRefused?.(response.status, body);
          return;
        }
        handlers.onOpen?.();
        const parser = createParser({
          onEvent(message) {
            if (message.id !== undefined) lastId = message.id;
            if (options.endEvent && message.event === options.endEvent) ended = true;
            handlers.onEvent({ event: message.event ?? "message", data: message.data, id: message.id });
          },
          onRetry(ms) {
            retryMs = ms;
          },
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
        if (ended) {
          handlers.onEnd?.();
          return;
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof TypeError) connectionFailed();
      }
      handlers.onDrop?.();
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  void run();
  return () => controller.abort();
}
