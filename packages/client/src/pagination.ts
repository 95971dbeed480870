// Auto-pagination over `{items, next}` pages. Like the official CLI, only the `pageIndex` of `next` is
// used: the typed request is re-issued with the same params against our own base URL, so a `next` built
// for another origin (proxy, load balancer) still works and no credentials follow a foreign URL.
import type { Client, MaybeOptionalInit } from "openapi-fetch";
import { throwIfAborted } from "./abort.js";
import { HtcError, unwrap } from "./errors.js";
import type { paths, Readable } from "@htcemu/openapi/types";

type GetOperation<P extends keyof paths> = paths[P] extends { get: infer Op } ? Op : never;
type OkJson<Op> = Op extends { responses: { 200: { content: { "application/json": infer B } } } } ? B : never;

/** The 200 body of the GET operation of path P. */
export type PageBody<P extends keyof paths> = Readable<OkJson<GetOperation<P>>>;

/**
 * Paths whose GET answers with a page `{items, next}`, plus `…/groups`: it takes the paging parameters but answers
 * with a bare array, which is treated as one complete page.
 */
export type PaginatedPath = {
  [P in keyof paths]: [PageBody<P>] extends [never]
    ? never
    : PageBody<P> extends readonly unknown[]
      ? P
      : "items" extends keyof PageBody<P>
        ? P
        : never;
}[keyof paths];

/** The item type of a paginated path. */
export type PageItem<P extends PaginatedPath> =
  PageBody<P> extends readonly (infer A)[] ? A : PageBody<P> extends { items?: (infer I)[] } ? I : never;

/** The request options of a paginated path (params etc.), as for `client.api.GET(path, init)`. */
export type PageInit<P extends PaginatedPath> = MaybeOptionalInit<paths[P], "get">;

export interface PaginateOptions {
  /** Sent as `pageSize` on every request (server default: 100). */
  pageSize?: number;
  /** Stop after this many pages. Default: no limit. */
  maxPages?: number;
  signal?: AbortSignal;
}

type ClientLike = Client<paths> | { api: Client<paths> };

function apiOf(client: ClientLike): Client<paths> {
  return "api" in client ? client.api : client;
}

/** Yields every page of a paginated GET, following `next` until it is absent or has no pageIndex. */
export async function* paginatePages<P extends PaginatedPath>(
  client: ClientLike,
  path: P,
  init: PageInit<P>,
  options: PaginateOptions = {},
): AsyncGenerator<PageBody<P>, void, undefined> {
  const api = apiOf(client);
  const base = (init ?? {}) as { params?: { query?: Record<string, unknown> } } & Record<string, unknown>;
  const signal = options.signal ?? (base["signal"] as AbortSignal | undefined);
  const firstCursor = base.params?.query?.["pageIndex"];
  let cursor = typeof firstCursor === "string" ? firstCursor : undefined;
  const seen = new Set<string>(cursor === undefined ? [] : [cursor]);

  for (let pages = 0; options.maxPages === undefined || pages < options.maxPages; pages++) {
    throwIfAborted(signal);
    const query: Record<string, unknown> = { ...base.params?.query };
    if (options.pageSize !== undefined) query["pageSize"] = options.pageSize;
    if (cursor === undefined) delete query["pageIndex"];
    else query["pageIndex"] = cursor;
    const request = { ...base, params: { ...base.params, query }, signal };
    // The generic GET cannot be expressed for a union of paths; the call is checked through PageInit<P>.
    const get = api.GET as unknown as (path: string, init: unknown) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
    const page = await unwrap(get(path, request));
    yield page as Awaited<PageBody<P>>;
    // A bare array has no cursor: it is the whole listing.
    if (Array.isArray(page)) return;

    const next = nextCursor((page as { next?: unknown }).next);
    if (next === undefined) return;
    if (seen.has(next)) {
      throw new HtcError("PAGINATION_LOOP", `${path}: the server repeated the page cursor ${JSON.stringify(next)}; stopping`);
    }
    seen.add(next);
    cursor = next;
  }
}

/** Yields every item of every page. */
export async function* paginate<P extends PaginatedPath>(
  client: ClientLike,
  path: P,
  init: PageInit<P>,
  options: PaginateOptions = {},
): AsyncGenerator<PageItem<P>, void, undefined> {
  for await (const page of paginatePages(client, path, init, options)) {
    const items = Array.isArray(page) ? (page as PageItem<P>[]) : ((page as { items?: PageItem<P>[] }).items ?? []);
    yield* items;
  }
}

/** The `pageIndex` carried by a `next` URL, or undefined when the listing is complete. */
export function nextCursor(next: unknown): string | undefined {
  if (typeof next !== "string" || next.trim() === "") return undefined;
  let url: URL;
  try {
    url = new URL(next, "http://relative.invalid/");
  } catch {
    return undefined;
  }
  return url.searchParams.get("pageIndex") || undefined;
}

export interface CollectOptions {
  /** Most items to gather. Default 10 000. */
  limit?: number;
  /** When more items exist: "throw" (default, never lose data silently) or "truncate". */
  onOverflow?: "throw" | "truncate";
}

/** Gathers an async iterable into an array, refusing to grow past a hard cap. */
export async function collect<T>(source: AsyncIterable<T>, options: CollectOptions = {}): Promise<T[]> {
  const limit = options.limit ?? 10_000;
  const out: T[] = [];
  for await (const item of source) {
    if (out.length >= limit) {
      if (options.onOverflow === "truncate") break;
      throw new HtcError("COLLECT_LIMIT", `collect(): more than ${limit} items; raise the limit or iterate instead`);
    }
    out.push(item);
  }
  return out;
}
