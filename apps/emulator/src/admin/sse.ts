// Small helpers shared by the server-sent event operations (tag Live of admin.yaml).
import type { SSEStreamingApi } from "hono/streaming";

/** Idle streams get a comment line this often, so proxies and browsers keep them open. */
export const SSE_HEARTBEAT_MS = 15_000;

/**
 * Waits until `register`'s callback is called or `ms` pass; in the second case writes a comment line. Returns
 * whether it was woken.
 */
export async function keepAlive(stream: SSEStreamingApi, ms: number, register: (wake: () => void) => void): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const woken = await new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    register(() => resolve(true));
  });
  clearTimeout(timer);
  if (!woken && !stream.aborted && !stream.closed) await stream.write(": keep-alive\n\n");
  return woken;
}
