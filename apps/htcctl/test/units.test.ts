// The pure parts: command line, object keys of local paths, when a job token counts as expired.
import { describe, expect, it } from "vitest";
import { parseCommandLine, UsageError } from "../src/args.js";
import { JobTokenAuth, jwtExpiry } from "../src/api.js";
import { awsRegionOf, keyOfPath, localPathOf, normalizeKey } from "../src/storage.js";

describe("command line", () => {
  it("takes options before and after the command, as the official tool", () => {
    const parsed = parseCommandLine(["--project-shared", "--project-id", "P", "upload", "a", "b", "-j", "2"]);
    expect(parsed).toMatchObject({
      kind: "run",
      options: { command: "upload", operands: ["a", "b"], projectShared: true, projectId: "P", parallel: 2, dest: "." },
    });
    expect(parseCommandLine(["download", "K", "-d", "out/"])).toMatchObject({
      options: { command: "download", operands: ["K"], dest: "out/" },
    });
    expect(parseCommandLine(["-s", "list"])).toMatchObject({ options: { command: "list", projectShared: true, operands: [] } });
    expect(parseCommandLine(["-h"])).toEqual({ kind: "help" });
  });

  it("refuses what it cannot do", () => {
    expect(() => parseCommandLine(["list", "a", "b"])).toThrow(UsageError);
    expect(() => parseCommandLine(["upload", "a", "-j", "0"])).toThrow(/--parallel/);
  });
});

describe("object keys", () => {
  it("keep the relative path as written", () => {
    expect(keyOfPath("a.txt")).toBe("a.txt");
    expect(keyOfPath("./out//b.dat")).toBe("out/b.dat");
    expect(keyOfPath("/tmp/work/c.dat")).toBe("tmp/work/c.dat");
    expect(() => keyOfPath("../x")).toThrow(UsageError);
    expect(() => keyOfPath(".")).toThrow(UsageError);
    expect(normalizeKey("/results/./r.json")).toBe("results/r.json");
    expect(() => normalizeKey("a/../../etc/passwd")).toThrow(UsageError);
    expect(localPathOf("dl", "a/b/c.txt")).toBe("dl/a/b/c.txt");
    expect(awsRegionOf("AWS_EU_WEST_1")).toBe("eu-west-1");
    expect(awsRegionOf("GCP_US_CENTRAL_1")).toBe("us-east-1");
  });
});

describe("job token renewal", () => {
  const jwt = (exp: number) => `x.${Buffer.from(JSON.stringify({ exp })).toString("base64url")}.y`;

  it("uses the injected token until its exp, then the refresh token's", async () => {
    const now = 1_700_000_000_000;
    let exchanges = 0;
    const exchange = async () => `fresh-${++exchanges}`;
    const live = new JobTokenAuth(jwt(now / 1000 + 3600), exchange, () => now);
    expect(await live.bearer()).toBe(jwt(now / 1000 + 3600));
    const expired = new JobTokenAuth(jwt(now / 1000 - 1), exchange, () => now);
    expect(await Promise.all([expired.bearer(), expired.bearer()])).toEqual(["fresh-1", "fresh-1"]);
    expect(jwtExpiry("not a jwt")).toBeUndefined();
  });

  it("switches on a 401, once for concurrent refusals, and gives up without a refresh token", async () => {
    let exchanges = 0;
    const auth = new JobTokenAuth("opaque", async () => `fresh-${++exchanges}`);
    expect(await auth.bearer()).toBe("opaque");
    expect(await Promise.all([auth.renew("opaque"), auth.renew("opaque")])).toEqual([true, true]);
    expect(await auth.bearer()).toBe("fresh-1");
    expect(exchanges).toBe(1);
    expect(await new JobTokenAuth("opaque", undefined).renew("opaque")).toBe(false);
  });
});
