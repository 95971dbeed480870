import { afterEach, describe, expect, it } from "vitest";
import { collect, createHtcClient, HtcError, nextCursor, paginate, paginatePages, requireMember } from "../src/index.js";
import { type Fixture, type FixtureRequest, startFixture } from "./fixture.js";

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** Serves `total` projects in pages; `nextFor` builds the `next` URL from the cursor of the next page. */
function pagedProjects(total: number, nextFor: (req: FixtureRequest, cursor: string) => string | undefined) {
  return (req: FixtureRequest) => {
    const size = Number(req.url.searchParams.get("pageSize") ?? 100);
    const start = Number(req.url.searchParams.get("pageIndex")?.replace("c", "") ?? 0);
    const items = Array.from({ length: Math.max(0, Math.min(size, total - start)) }, (_, i) => ({
      projectId: `p${start + i}`,
      projectName: `n${start + i}`,
      projectDescription: "",
    }));
    const end = start + items.length;
    const next = end < total ? nextFor(req, `c${end}`) : undefined;
    return { body: next === undefined ? { items } : { items, next } };
  };
}

describe("paginate", () => {
  it("walks 3 pages, taking only pageIndex from a next URL on another origin", async () => {
    fx = await startFixture(
      pagedProjects(7, (_req, cursor) => `https://elsewhere.example/api/v1/htc/projects?pageIndex=${cursor}&pageSize=999`),
    );
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const ids: string[] = [];
    for await (const project of paginate(client, "/htc/projects", { params: { query: { onlyMyProjects: true } } }, { pageSize: 3 })) {
      ids.push(requireMember(project, "projectId"));
    }
    expect(ids).toEqual(["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
    expect(fx.requests.map((r) => r.url.search)).toEqual([
      "?onlyMyProjects=true&pageSize=3",
      "?onlyMyProjects=true&pageSize=3&pageIndex=c3",
      "?onlyMyProjects=true&pageSize=3&pageIndex=c6",
    ]);
    expect(fx.requests.every((r) => r.authorization === "Bearer t")).toBe(true);
  });

  it("yields whole pages with paginatePages and keeps path params", async () => {
    fx = await startFixture((req) => {
      const idx = req.url.searchParams.get("pageIndex");
      if (!req.path.endsWith("/htc/projects/P/tasks")) return { status: 404 };
      return idx === "2"
        ? { body: { items: [{ taskId: "t2", taskName: "b", taskDescription: "" }] } }
        : {
            body: {
              items: [{ taskId: "t1", taskName: "a", taskDescription: "" }],
              next: `${fx?.baseUrl}/htc/projects/P/tasks?pageIndex=2`,
            },
          };
    });
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const pages = await collect(paginatePages(client, "/htc/projects/{projectId}/tasks", { params: { path: { projectId: "P" } } }));
    expect(pages.map((p) => p.items?.map((t) => t.taskId))).toEqual([["t1"], ["t2"]]);
    expect(fx.requests).toHaveLength(2);
  });

  it("treats the bare array of …/groups as one complete page", async () => {
    fx = await startFixture(() => ({ body: ["g1", "g2"] }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const groups: string[] = await collect(
      paginate(
        client,
        "/htc/projects/{projectId}/tasks/{taskId}/groups",
        { params: { path: { projectId: "P", taskId: "T" } } },
        { pageSize: 5 },
      ),
    );
    expect(groups).toEqual(["g1", "g2"]);
    expect(fx.requests.map((r) => r.url.search)).toEqual(["?pageSize=5"]);
  });

  it("stops when next is empty or carries no pageIndex", async () => {
    fx = await startFixture((req) =>
      req.url.searchParams.get("pageIndex") === "x"
        ? { body: { items: [{ projectId: "b" }], next: `${fx?.origin}/api/v1/htc/projects?pageSize=5` } }
        : { body: { items: [{ projectId: "a" }], next: `${fx?.origin}/api/v1/htc/projects?pageIndex=x` } },
    );
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const all = await collect(paginate(client, "/htc/projects", {}));
    expect(all.map((p) => p.projectId)).toEqual(["a", "b"]);
    expect(fx.requests).toHaveLength(2);
  });

  it("throws instead of looping when the server repeats a cursor", async () => {
    fx = await startFixture((req) => {
      const idx = req.url.searchParams.get("pageIndex");
      return { body: { items: [{ projectId: idx ?? "first" }], next: `${fx?.baseUrl}/htc/projects?pageIndex=${idx === "A" ? "B" : "A"}` } };
    });
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const p of paginate(client, "/htc/projects", undefined)) seen.push(requireMember(p, "projectId"));
    })().catch((e) => e);
    expect(error).toBeInstanceOf(HtcError);
    expect(error.code).toBe("PAGINATION_LOOP");
    expect(seen).toEqual(["first", "A", "B"]);
    expect(fx.requests).toHaveLength(3);
  });

  it("honours maxPages", async () => {
    fx = await startFixture(pagedProjects(50, (_r, c) => `${fx?.baseUrl}/htc/projects?pageIndex=${c}`));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const all = await collect(paginate(client, "/htc/projects", {}, { pageSize: 10, maxPages: 2 }));
    expect(all).toHaveLength(20);
    expect(fx.requests).toHaveLength(2);
  });

  it("stops on abort between pages", async () => {
    fx = await startFixture(pagedProjects(50, (_r, c) => `${fx?.baseUrl}/htc/projects?pageIndex=${c}`));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const controller = new AbortController();
    const error = await (async () => {
      for await (const _ of paginatePages(client, "/htc/projects", {}, { pageSize: 10, signal: controller.signal })) controller.abort();
    })().catch((e) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    expect(fx.requests).toHaveLength(1);
  });
});

describe("collect", () => {
  async function* count(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }

  it("gathers up to the cap and refuses to exceed it", async () => {
    expect(await collect(count(5), { limit: 5 })).toEqual([0, 1, 2, 3, 4]);
    await expect(collect(count(6), { limit: 5 })).rejects.toMatchObject({ code: "COLLECT_LIMIT" });
    expect(await collect(count(6), { limit: 5, onOverflow: "truncate" })).toEqual([0, 1, 2, 3, 4]);
  });

  it("stops pulling from the source at the cap", async () => {
    let pulled = 0;
    async function* endless() {
      for (;;) {
        pulled++;
        yield pulled;
      }
    }
    expect(await collect(endless(), { limit: 3, onOverflow: "truncate" })).toEqual([1, 2, 3]);
    expect(pulled).toBe(4);
  });
});

describe("nextCursor", () => {
  it("extracts pageIndex or reports the end", () => {
    expect(nextCursor("https://htc.rescale.com/api/v1/htc/projects?pageIndex=abc%3D&pageSize=5")).toBe("abc=");
    expect(nextCursor("/api/v1/htc/projects?pageIndex=7")).toBe("7");
    expect(nextCursor("https://x.example/?pageIndex=")).toBeUndefined();
    expect(nextCursor("https://x.example/")).toBeUndefined();
    expect(nextCursor("")).toBeUndefined();
    expect(nextCursor(null)).toBeUndefined();
    expect(nextCursor(undefined)).toBeUndefined();
  });
});
