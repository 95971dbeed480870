// Which request a Response came from: the transport remembers it, and errors built from the Response name it.
import { describe, expect, it } from "vitest";
import { HtcApiError } from "../src/errors.js";
import { rememberRequest, requestInfoOf } from "../src/request-info.js";

describe("requestInfoOf", () => {
  it("returns the request remembered for a response", () => {
    const response = new Response("{}", { status: 200 });
    rememberRequest(response, { method: "PATCH", url: "https://htc.example/api/v1/htc/projects/p" });
    expect(requestInfoOf(response)).toEqual({ method: "PATCH", url: "https://htc.example/api/v1/htc/projects/p" });
  });

  it("falls back to an unknown method and the response's own URL", () => {
    expect(requestInfoOf(new Response(null, { status: 204 }))).toEqual({ method: "UNKNOWN", url: "" });
  });
});

describe("HtcApiError.fromResponse", () => {
  it("reads the body once and names the remembered request", async () => {
    const response = new Response(JSON.stringify({ errorType: "NOT_FOUND", errorDescription: "no such task" }), {
      status: 404,
      statusText: "Not Found",
      headers: { "content-type": "application/json" },
    });
    rememberRequest(response, { method: "GET", url: "https://htc.example/api/v1/htc/projects/p/tasks/t" });
    const error = await HtcApiError.fromResponse(response);
    expect(error).toMatchObject({ status: 404, errorType: "NOT_FOUND", errorDescription: "no such task", request: { method: "GET" } });
    expect(error.message).toBe("GET https://htc.example/api/v1/htc/projects/p/tasks/t failed with 404 Not Found: NOT_FOUND: no such task");
    expect(response.bodyUsed).toBe(true);
  });

  it("prefers an explicit request and keeps a text body", async () => {
    const error = await HtcApiError.fromResponse(new Response("upstream down", { status: 503 }), { method: "POST", url: "https://x/y" });
    expect(error).toMatchObject({
      status: 503,
      body: "upstream down",
      errorDescription: "upstream down",
      request: { method: "POST", url: "https://x/y" },
    });
  });
});
