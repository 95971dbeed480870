import { afterEach, describe, expect, it } from "vitest";
import { createHtcClient, HtcApiError, HtcError, parseErrorBody, unwrap } from "../src/index.js";
import { type Fixture, type FixtureReply, startFixture } from "./fixture.js";

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

async function failWith(reply: FixtureReply): Promise<HtcApiError> {
  fx = await startFixture(() => reply);
  const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t", retry: false });
  const error = await unwrap(client.api.POST("/htc/projects", { body: { projectName: "", projectDescription: "" } })).catch((e) => e);
  expect(error).toBeInstanceOf(HtcApiError);
  expect(error).toBeInstanceOf(HtcError);
  return error;
}

describe("HtcApiError", () => {
  it("reads an HTCRequestError body", async () => {
    const body = { errorType: "VALIDATION_ERROR", errorDescription: "projectName: must not be empty", message: "see docs" };
    const error = await failWith({ status: 400, body });
    expect(error).toMatchObject({
      status: 400,
      errorType: "VALIDATION_ERROR",
      errorDescription: "projectName: must not be empty",
      serverMessage: "see docs",
      body,
      code: "API",
      name: "HtcApiError",
    });
    expect(error.request).toEqual({ method: "POST", url: `${fx?.baseUrl}/htc/projects` });
    expect(error.message).toBe(
      `POST ${fx?.baseUrl}/htc/projects failed with 400 Bad Request: VALIDATION_ERROR: projectName: must not be empty (see docs)`,
    );
  });

  it("reads an OAuth2ErrorResponse body", async () => {
    const error = await failWith({ status: 404, body: { error: "not_found", errorDescription: "no such project" } });
    expect(error).toMatchObject({ status: 404, errorType: "not_found", errorDescription: "no such project", serverMessage: undefined });
    expect(error.message).toContain("404 Not Found: not_found: no such project");
  });

  it("copes with an empty body", async () => {
    const error = await failWith({ status: 403 });
    expect(error).toMatchObject({ status: 403, errorType: undefined, errorDescription: undefined, body: undefined });
    expect(error.message).toBe(`POST ${fx?.baseUrl}/htc/projects failed with 403 Forbidden`);
  });

  it("keeps a non-JSON body as text", async () => {
    const error = await failWith({ status: 502, body: "Bad gateway from proxy" });
    expect(error.body).toBe("Bad gateway from proxy");
    expect(error.errorDescription).toBe("Bad gateway from proxy");
  });

  it("returns the data of a successful result", async () => {
    fx = await startFixture(() => ({ body: { projectId: "p", projectName: "n", projectDescription: "d" } }));
    const client = createHtcClient({ baseUrl: fx.baseUrl, bearerToken: "t" });
    const project = await unwrap(client.api.GET("/htc/projects/{projectId}", { params: { path: { projectId: "p" } } }));
    expect(project.projectName).toBe("n");
  });
});

describe("parseErrorBody", () => {
  it("understands both shapes and the image-404 variant", () => {
    expect(parseErrorBody({ errorType: "A", errorDescription: "B", message: null })).toEqual({
      errorType: "A",
      errorDescription: "B",
      serverMessage: null,
    });
    expect(parseErrorBody({ error: "invalid_token", errorDescription: "expired" })).toEqual({
      errorType: "invalid_token",
      errorDescription: "expired",
      serverMessage: undefined,
    });
    expect(parseErrorBody({ error: "IMAGE_UNAVAILABLE", message: "Image x:1 is unavailable" })).toEqual({
      errorType: "IMAGE_UNAVAILABLE",
      errorDescription: "Image x:1 is unavailable",
      serverMessage: "Image x:1 is unavailable",
    });
    expect(parseErrorBody(undefined)).toEqual({});
    expect(parseErrorBody("")).toEqual({});
    expect(parseErrorBody(42)).toEqual({});
  });
});
