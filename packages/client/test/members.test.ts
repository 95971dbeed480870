import { describe, expect, it } from "vitest";
import { HtcError, requireMember } from "../src/index.js";

describe("requireMember", () => {
  it("returns a member that is there, with its type narrowed", () => {
    const project: { projectId?: string; organizationCode?: string | null } = { projectId: "p1", organizationCode: "" };
    const id: string = requireMember(project, "projectId");
    expect(id).toBe("p1");
    // An empty string or 0 is a value.
    expect(requireMember(project, "organizationCode")).toBe("");
    expect(requireMember({ n: 0 } as { n?: number }, "n")).toBe(0);
  });

  it("throws an HtcError naming the member (and the body) when it is missing or null", () => {
    const missing = () => requireMember({} as { taskId?: string }, "taskId", "the new task");
    expect(missing).toThrow(HtcError);
    expect(missing).toThrow("the new task has no taskId, which this call needs");
    try {
      requireMember({ group: null } as { group?: string | null }, "group");
    } catch (error) {
      expect(error).toMatchObject({ code: "UNEXPECTED_RESPONSE", message: "the response has no group, which this call needs" });
    }
    expect.assertions(3);
  });
});
