// Keyset pagination over a table's insertion order (`seq`), and the `next` link every client shape can follow:
// an absolute URL on the request's own origin, with every original query parameter and the cursor in
// `pageIndex`, left out on the last page.
import type { AppContext } from "./env.js";
import { invalidField } from "../errors.js";
import { publicOrigin } from "./origin.js";

export interface PageRequest {
  /** Return rows after this key (exclusive); `undefined` for the first page. */
  after: string | undefined;
  size: number;
}

/** Cursors are opaque to clients; inside they are the sort key of the last row served. */
export function decodeCursor(pageIndex: string | undefined): string | undefined {
  if (pageIndex === undefined || pageIndex === "") return undefined;
  const text = Buffer.from(pageIndex, "base64url").toString("utf8");
  if (!text.startsWith("k:")) throw invalidField("pageIndex", "is not a cursor this server issued");
  return text.slice(2);
}

export function encodeCursor(key: string | number): string {
  return Buffer.from(`k:${key}`, "utf8").toString("base64url");
}

export function pageRequest(query: { pageIndex?: string | undefined; pageSize: number }): PageRequest {
  return { after: decodeCursor(query.pageIndex), size: query.pageSize };
}

/** Integer cursors (row `seq`), validated. */
export function afterSeq(page: PageRequest): number {
  if (page.after === undefined) return 0;
  const seq = Number(page.after);
  if (!Number.isSafeInteger(seq) || seq < 0) throw invalidField("pageIndex", "is not a cursor this server issued");
  return seq;
}

/**
 * Builds the page body from `rows` fetched with one row more than the page size: that extra row only tells
 * whether a next page exists.
 */
export function pageBody<Row, Item>(
  c: AppContext,
  rows: Row[],
  page: PageRequest,
  keyOf: (row: Row) => string | number,
  toItem: (row: Row) => Item,
): { items: Item[]; next?: string } {
  const hasMore = rows.length > page.size;
  const served = hasMore ? rows.slice(0, page.size) : rows;
  const body: { items: Item[]; next?: string } = { items: served.map(toItem) };
  if (hasMore) body.next = nextUrl(c, encodeCursor(keyOf(served[served.length - 1]!)));
  return body;
}

export function nextUrl(c: AppContext, cursor: string): string {
  const url = new URL(c.req.url);
  const origin = publicOrigin(c);
  const params = new URLSearchParams();
  const seen = new Set<string>();
  for (const [key, value] of url.searchParams) {
    if (key === "pageIndex") continue;
    const pair = `${key}\u0000${value}`;
    if (seen.has(pair)) continue;
    seen.add(pair);
    params.append(key, value);
  }
  params.set("pageIndex", cursor);
  return `${origin}${url.pathname}?${params.toString()}`;
}
