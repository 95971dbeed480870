import { describe, expect, it } from "vitest";
import { deriveView, loadContract } from "../src/index.js";

const document = loadContract().document;
const schemaOf = (doc: Record<string, unknown>, name: string) =>
  (doc["components"] as { schemas: Record<string, { required?: string[]; properties: Record<string, unknown> }> }).schemas[name]!;

describe("deriveView", () => {
  const request = deriveView(document, "request");
  const response = deriveView(document, "response");

  it("drops readOnly members from required in the request view and stops validating them", () => {
    const task = schemaOf(request, "HTCTask");
    expect(task.required).toEqual(["taskName", "taskDescription"]);
    expect(task.properties["taskId"]).toBe(true);
    // Wrapped with allOf: readOnly sits next to the $ref.
    expect(task.properties["createdAt"]).toBe(true);
    expect(task.properties["taskName"]).toEqual(schemaOf(document, "HTCTask").properties["taskName"]);
  });

  it("leaves readOnly members alone in the response view", () => {
    expect(schemaOf(response, "HTCTask")).toEqual(schemaOf(document, "HTCTask"));
  });

  it("keeps patternProperties and nested schemas", () => {
    expect(schemaOf(request, "HTCTokenPayload")).toEqual(schemaOf(document, "HTCTokenPayload"));
  });

  it("rewrites schemas inline in operations too, and leaves the source untouched", () => {
    const before = JSON.stringify(document);
    const inline = (doc: Record<string, unknown>) =>
      (doc["paths"] as Record<string, Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>>)["/oauth2/token"]![
        "post"
      ]!.requestBody.content["application/x-www-form-urlencoded"]!.schema;
    expect(inline(deriveView(document, "request"))).toEqual(inline(document));
    expect(JSON.stringify(document)).toBe(before);
  });
});
