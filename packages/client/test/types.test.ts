// Compile-time checks (tsc runs over test/): the typed surface accepts what the API takes and no more.
import { describe, expectTypeOf, it } from "vitest";
import {
  createHtcClient,
  type HtcClient,
  type JobBatchRequest,
  type JobBatchResponse,
  type PageItem,
  type PaginatedPath,
  type paths,
} from "../src/index.js";

describe("types", () => {
  it("lists exactly the paginated GET operations", () => {
    expectTypeOf<"/htc/projects">().toExtend<PaginatedPath>();
    expectTypeOf<"/htc/projects/{projectId}/tasks">().toExtend<PaginatedPath>();
    expectTypeOf<"/htc/projects/{projectId}/tasks/{taskId}/group-summary-statistics">().toExtend<PaginatedPath>();
    expectTypeOf<"/htc/projects/{projectId}/tasks/{taskId}/jobs">().toExtend<PaginatedPath>();
    expectTypeOf<"/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs">().toExtend<PaginatedPath>();
    // The bare string[] of groups is one complete page; single objects are not pages.
    expectTypeOf<"/htc/projects/{projectId}/tasks/{taskId}/groups">().toExtend<PaginatedPath>();
    expectTypeOf<PageItem<"/htc/projects/{projectId}/tasks/{taskId}/groups">>().toEqualTypeOf<string>();
    expectTypeOf<"/htc/projects/{projectId}">().not.toExtend<PaginatedPath>();
    expectTypeOf<"/auth/token">().not.toExtend<PaginatedPath>();
    // Production's description promises no response member, so neither do the types.
    expectTypeOf<PageItem<"/htc/projects">["projectId"]>().toEqualTypeOf<string | undefined>();
  });

  it("does not require read-only fields in request bodies, and refuses them", () => {
    // Never called: these only have to compile (or fail to, where marked).
    const calls = (htc: HtcClient) => {
      const params = { path: { projectId: "p", taskId: "t" } };
      // parentJobId, taskId, projectId… are read-only: not needed here.
      htc.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params,
        body: [{ batchSize: 2, htcJobDefinition: { imageName: "app:v1" } }],
      });
      htc.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params,
        // @ts-expect-error parentJobId is read-only: the server assigns it
        body: [{ batchSize: 2, htcJobDefinition: { imageName: "app:v1" }, parentJobId: "x" }],
      });
      // @ts-expect-error the path parameter is required
      htc.api.GET("/htc/projects/{projectId}", {});
    };
    expectTypeOf(calls).toBeFunction();
    expectTypeOf<{ batchSize: number; htcJobDefinition: { imageName: string } }>().toExtend<JobBatchRequest>();
    expectTypeOf<{ batchSize: number; htcJobDefinition: { imageName: string }; parentJobId: string }>().not.toExtend<JobBatchRequest>();
    // Responses keep them (optional, as production's description has it; `null` where it sends null).
    expectTypeOf<JobBatchResponse["parentJobId"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<JobBatchResponse["group"]>().toEqualTypeOf<string | null | undefined>();
    expectTypeOf<paths["/htc/projects"]["post"]>().not.toBeNever();
  });

  it("accepts at most one credential", () => {
    const make = (key: string | undefined) => {
      createHtcClient({ baseUrl: "http://127.0.0.1:1", apiKey: key });
      createHtcClient({ baseUrl: "http://127.0.0.1:1" });
      // @ts-expect-error an API key and a bearer token at once is ambiguous
      createHtcClient({ baseUrl: "http://127.0.0.1:1", apiKey: "a", bearerToken: "b" });
    };
    expectTypeOf(make).toBeFunction();
  });
});
