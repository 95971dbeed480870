// Signature Version 2 at the S3 endpoint, with the clients that use it: Debian 12's boto3 (1.26), which presigns
// get_object with SigV2 by default and signs every request with it when asked (`signature_version="s3"`), driven by
// a small Python script; and requests and presigned URLs built here from S3's specification. Both kinds are
// verified as strictly as SigV4: the signature over the canonical string (amz headers and sub-resources included),
// the URL's expiry by the emulator's clock, the session token, and the credentials' folder. Errors are S3's XML.
import { execFile, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import type { HtcClient } from "@htcemu/client";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contractClient, startTestEmulator, sent } from "./helpers.js";
import {
  advanceClock,
  emulatorNow,
  type Ids,
  md5,
  newProject,
  newTask,
  prefixOf,
  s3Error,
  s3For,
  sigV2Request,
  sigV2Url,
  type Token,
  taskToken,
} from "./storage-helpers.js";

const run = promisify(execFile);

let emulator: SpawnedEmulator;
let client: HtcClient;
let ids: Ids;
let token: Token;
/** A sibling task's credentials, for its folder. */
let sibling: Token;

beforeAll(async () => {
  emulator = await startTestEmulator();
  client = contractClient(emulator, { apiKey: emulator.apiKey });
  ids = await newTask(client, await newProject(client));
  token = await taskToken(client, ids);
  sibling = await taskToken(client, await newTask(client, ids.projectId));
});

afterAll(async () => {
  await emulator?.stop();
});

/** Debian's python3 first (python3-boto3 installs there), then whatever python3 is on PATH. */
function findBoto3(): { python: string; version: string } | undefined {
  for (const python of ["/usr/bin/python3", "python3"]) {
    const probe = spawnSync(python, ["-c", "import boto3; print(boto3.__version__)"], { encoding: "utf8" });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
  }
  return undefined;
}

async function fetchText(url: string, init?: RequestInit): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(url, init);
  return { status: response.status, text: await response.text(), headers: response.headers };
}

const boto3 = findBoto3();
const skipBoto3 = !boto3 && !process.env.CI;
if (skipBoto3)
  console.warn(
    "storage-sigv2: boto3 tests skipped: python3-boto3 is not installed (apt-get install -y --no-install-recommends python3-boto3); CI runs them",
  );
const boto3Title = skipBoto3
  ? "boto3 (skipped: python3-boto3 is not installed; apt-get install -y --no-install-recommends python3-boto3)"
  : `boto3 ${boto3?.version ?? "(missing)"} against the S3 endpoint`;

interface Boto3Result {
  boto3: string;
  put: { etag: string };
  get: { body: string; contentType: string; metadata: Record<string, string>; disposition: string; etag: string };
  head: { length: number };
  list: string[];
  listV1: string[];
  bucket: { head: number; location: string | null; buckets: string[] };
  tags: unknown[];
  parts: number[];
  multipart: { etag: string; length: number };
  deleted: string[];
  refused: Record<string, [string, number] | null>;
  urls: Record<"defaultGet" | "v2Get" | "v2GetOverride" | "v2Put" | "v2Short" | "v2OtherTask" | "v4Get", string>;
}

describe.skipIf(skipBoto3)(boto3Title, () => {
  let result: Boto3Result;

  beforeAll(async () => {
    if (!boto3)
      throw new Error(
        "CI needs Debian's python3-boto3 (apt-get install -y --no-install-recommends python3-boto3; scripts/docker/ensure-engine.sh installs it)",
      );
    const script = fileURLToPath(new URL("./python/boto3_storage.py", import.meta.url));
    const input = {
      endpoint: token.endpointUrl,
      bucket: token.storageName,
      prefix: prefixOf(token),
      otherPrefix: prefixOf(sibling),
      credentials: token.credentials,
    };
    const { stdout } = await run(boto3.python, [script, JSON.stringify(input)], { timeout: 60_000 });
    result = JSON.parse(stdout) as Boto3Result;
  });

  it("signs requests with SigV2 headers that the endpoint verifies: objects, response overrides, listings, bucket calls, multipart, tags, deletes", () => {
    const prefix = prefixOf(token);
    expect(result.put.etag).toBe(`"${md5("hello from boto3")}"`);
    expect(result.get).toEqual({
      body: "hello from boto3",
      contentType: "text/plain",
      metadata: { origin: "boto3" },
      disposition: "attachment; filename=hello.txt",
      etag: result.put.etag,
    });
    expect(result.head.length).toBe(16);
    expect(result.list).toEqual([`${prefix}boto3/copy.txt`, `${prefix}boto3/hello world+ü.txt`]);
    expect(result.listV1).toEqual(result.list);
    expect(result.bucket).toEqual({ head: 200, location: null, buckets: [token.storageName] });
    expect(result.tags).toEqual([]);
    expect(result.parts).toEqual([5 * 1024 * 1024, 4]);
    expect(result.multipart).toMatchObject({ length: 5 * 1024 * 1024 + 4 });
    expect(result.multipart.etag).toMatch(/-2"$/);
    expect(result.deleted).toEqual([`${prefix}boto3/copy.txt`]);
    expect(result.refused).toEqual({ otherTask: ["AccessDenied", 403], wrongSecret: ["SignatureDoesNotMatch", 403] });
  });

  it("presigns get_object with SigV2 by default (1.26), and its SigV2 and SigV4 URLs work", async () => {
    if (result.boto3.startsWith("1.26.")) {
      const query = new URL(result.urls.defaultGet).searchParams;
      expect([...query.keys()].sort()).toEqual(["AWSAccessKeyId", "Expires", "Signature", "x-amz-security-token"]);
    }
    for (const name of ["defaultGet", "v2Get", "v4Get"] as const) {
      expect([name, (await fetchText(result.urls[name])).text]).toEqual([name, "hello from boto3"]);
    }
    expect(new URL(result.urls.v2Get).searchParams.has("Signature")).toBe(true);
    expect(new URL(result.urls.v4Get).searchParams.has("X-Amz-Signature")).toBe(true);
    const overridden = await fetchText(result.urls.v2GetOverride);
    expect([overridden.status, overridden.headers.get("content-type")]).toEqual([200, "application/x-boto3"]);
    // A body of bytes: fetch would send a string with a Content-Type, which SigV2 signs.
    expect((await fetchText(result.urls.v2Put, { method: "PUT", body: Buffer.from("put through a SigV2 URL") })).status).toBe(200);
    const stored = await s3For(token).send(
      new GetObjectCommand({ Bucket: token.storageName, Key: `${prefixOf(token)}boto3/presigned-put.txt` }),
    );
    expect(await stored.Body!.transformToString()).toBe("put through a SigV2 URL");
  });

  it("refuses its SigV2 URLs when tampered with, for another task's folder, and past Expires (403, S3's codes)", async () => {
    const tamperedKey = await fetchText(result.urls.v2Get.replace("hello%20world", "hello%20World"));
    expect([tamperedKey.status, s3Error(tamperedKey.text)?.code]).toEqual([403, "SignatureDoesNotMatch"]);
    const url = new URL(result.urls.v2Get);
    url.searchParams.set("Expires", String(Number(url.searchParams.get("Expires")) + 1));
    const tamperedExpiry = await fetchText(url.toString());
    expect([tamperedExpiry.status, s3Error(tamperedExpiry.text)?.code]).toEqual([403, "SignatureDoesNotMatch"]);
    const other = await fetchText(result.urls.v2OtherTask);
    expect([other.status, s3Error(other.text)?.code]).toEqual([403, "AccessDenied"]);
    // 60 s URLs expire by the emulator's clock; the 600 s ones still work.
    await advanceClock(emulator, 120);
    const expired = await fetchText(result.urls.v2Short);
    expect([expired.status, s3Error(expired.text)]).toEqual([403, { code: "AccessDenied", message: "Request has expired" }]);
    expect(expired.text).toMatch(/<Expires>[^<]+Z<\/Expires><ServerTime>[^<]+Z<\/ServerTime>/);
    expect((await fetchText(result.urls.v2Get)).status).toBe(200);
  });
});

describe("SigV2 built from S3's specification", () => {
  const path = (key: string) => `/s3/${token.storageName}/${prefixOf(token)}${key}`;

  it("verifies Authorization headers over the amz headers, Content-MD5, Content-Type and sub-resources", async () => {
    const body = "signed by hand";
    const contentMd5 = createHash("md5").update(body).digest("base64");
    const put = await sigV2Request(token, {
      method: "PUT",
      path: path("v2/hand%20made.txt"),
      body,
      headers: { "content-type": "text/x-hand", "content-md5": contentMd5, "x-amz-meta-made-by": "hand", "x-amz-meta-step": "1" },
    });
    expect([put.status, put.headers.get("etag")]).toEqual([200, `"${md5(body)}"`]);
    const get = await sigV2Request(token, {
      method: "GET",
      path: path("v2/hand%20made.txt"),
      query: "response-content-type=application%2Fx-override",
    });
    expect([get.status, get.text, get.headers.get("content-type"), get.headers.get("x-amz-meta-made-by")]).toEqual([
      200,
      body,
      "application/x-override",
      "hand",
    ]);
    // Dated by x-amz-date instead of Date: the Date line of the string to sign is empty.
    const dated = await sigV2Request(token, {
      method: "HEAD",
      path: path("v2/hand%20made.txt"),
      date: null,
      headers: { "x-amz-date": new Date().toUTCString() },
    });
    expect(dated.status).toBe(200);
    // S3's resource is `/bucket/key`; a signer that signed the endpoint's whole path (`/s3/bucket/key`) verifies too.
    const whole = await sigV2Request(token, { method: "GET", path: path("v2/hand%20made.txt"), signWholePath: true });
    expect([whole.status, whole.text]).toEqual([200, body]);
    const uploads = await sigV2Request(token, { method: "POST", path: path("v2/multi.bin"), query: "uploads" });
    expect(uploads.status).toBe(200);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(uploads.text)![1]!;
    const part = await sigV2Request(token, {
      method: "PUT",
      path: path("v2/multi.bin"),
      query: `partNumber=1&uploadId=${uploadId}`,
      body: "part",
    });
    expect(part.status).toBe(200);
    const aborted = await sigV2Request(token, { method: "DELETE", path: path("v2/multi.bin"), query: `uploadId=${uploadId}` });
    expect(aborted.status).toBe(204);
    expect((await sigV2Request(token, { method: "DELETE", path: path("v2/hand%20made.txt") })).status).toBe(204);
  });

  it("refuses headers with a wrong secret, a tampered resource, no date, no session token, or for another folder", async () => {
    const cases: Array<[string, Parameters<typeof sigV2Request>[1], number, string]> = [
      ["wrong secret", { method: "GET", path: path("x"), secret: "x".repeat(40) }, 403, "SignatureDoesNotMatch"],
      ["signed for another key", { method: "GET", path: path("x"), signedPath: path("y") }, 403, "SignatureDoesNotMatch"],
      [
        "sub-resource left out of the signature",
        { method: "GET", path: path("x"), query: "response-content-type=a", signedQuery: "" },
        403,
        "SignatureDoesNotMatch",
      ],
      [
        "a parameter that is no sub-resource, unsigned",
        { method: "GET", path: path("x"), query: "x-id=GetObject", signedQuery: "" },
        200,
        "",
      ],
      ["no Date or x-amz-date", { method: "GET", path: path("x"), date: null }, 403, "AccessDenied"],
      ["no session token", { method: "GET", path: path("x"), sessionToken: null }, 403, "AccessDenied"],
      ["another task's folder", { method: "GET", path: `/s3/${token.storageName}/${prefixOf(sibling)}x` }, 403, "AccessDenied"],
    ];
    await sigV2Request(token, { method: "PUT", path: path("x"), body: "x" });
    for (const [name, request, status, code] of cases) {
      const response = await sigV2Request(token, request);
      expect([name, response.status, s3Error(response.text)?.code ?? ""]).toEqual([name, status, code]);
    }
    const noDate = await sigV2Request(token, { method: "GET", path: path("x"), date: null });
    expect(s3Error(noDate.text)?.message).toMatch(/Date or x-amz-date/);
  });

  it("verifies presigned URLs until Expires (by the emulator's clock) and refuses them tampered, expired or for another folder", async () => {
    await sigV2Request(token, { method: "PUT", path: path("url.txt"), body: "via url" });
    const now = Math.floor((await emulatorNow(emulator)).getTime() / 1000);
    const get = sigV2Url(token, { method: "GET", path: path("url.txt"), expires: now + 300 });
    expect(await fetchText(get)).toMatchObject({ status: 200, text: "via url" });
    const put = sigV2Url(token, { method: "PUT", path: path("url-put.txt"), expires: now + 300 });
    // A body of bytes: fetch would send a string with a Content-Type, which SigV2 signs.
    expect((await fetchText(put, { method: "PUT", body: Buffer.from("put") })).status).toBe(200);
    expect((await fetchText(put, { method: "GET" })).status).toBe(403);

    const refusals: Array<[string, string, number, string, RegExp]> = [
      ["tampered key", get.replace("url.txt", "url.txT"), 403, "SignatureDoesNotMatch", /signature we calculated does not match/],
      [
        "tampered signature",
        get.replace(/Signature=[^&]+/, `Signature=${encodeURIComponent(Buffer.alloc(20).toString("base64"))}`),
        403,
        "SignatureDoesNotMatch",
        /does not match/,
      ],
      [
        "wrong secret",
        sigV2Url(token, { method: "GET", path: path("url.txt"), expires: now + 300, secret: "y".repeat(40) }),
        403,
        "SignatureDoesNotMatch",
        /does not match/,
      ],
      [
        "expired",
        sigV2Url(token, { method: "GET", path: path("url.txt"), expires: now - 1 }),
        403,
        "AccessDenied",
        /^Request has expired$/,
      ],
      [
        "another task's folder",
        sigV2Url(token, { method: "GET", path: `/s3/${token.storageName}/${prefixOf(sibling)}x`, expires: now + 300 }),
        403,
        "AccessDenied",
        /Access Denied/,
      ],
      [
        "no session token",
        sigV2Url(token, { method: "GET", path: path("url.txt"), expires: now + 300, sessionToken: null }),
        403,
        "AccessDenied",
        /session token/,
      ],
      [
        "no Signature",
        get.replace(/&?Signature=[^&]+/, ""),
        400,
        "AuthorizationQueryParametersError",
        /AWSAccessKeyId, Signature and Expires/,
      ],
      [
        "Expires not a number",
        get.replace(/Expires=\d+/, "Expires=tomorrow"),
        400,
        "AuthorizationQueryParametersError",
        /Expires 'tomorrow' is malformed/,
      ],
      [
        "malformed Signature",
        get.replace(/Signature=[^&]+/, "Signature=abc"),
        400,
        "AuthorizationQueryParametersError",
        /Signature 'abc' is malformed/,
      ],
      ["SigV2 and SigV4 parameters together", `${get}&X-Amz-Algorithm=AWS4-HMAC-SHA256`, 400, "InvalidArgument", /Only one auth mechanism/],
    ];
    for (const [name, url, status, code, message] of refusals) {
      const response = await fetchText(url);
      const error = s3Error(response.text);
      expect([name, response.status, error?.code]).toEqual([name, status, code]);
      expect(error?.message).toMatch(message);
    }
    const both = await fetchText(get, {
      headers: { authorization: `AWS ${token.credentials.AWS_ACCESS_KEY_ID}:${Buffer.alloc(20).toString("base64")}` },
    });
    expect([both.status, s3Error(both.text)?.code]).toEqual([400, "InvalidArgument"]);
  });

  it("answers a malformed signature or an unsupported kind with an error that says so, never as anonymous", async () => {
    const url = `${token.endpointUrl}/${token.storageName}/${prefixOf(token)}x`;
    const key = token.credentials.AWS_ACCESS_KEY_ID;
    const cases: Array<[string, Record<string, string>, number, string, RegExp]> = [
      ["Bearer", { authorization: "Bearer abc" }, 400, "InvalidArgument", /Unsupported Authorization Type.*Version 4.*Version 2/],
      ["SigV4a", { authorization: "AWS4-ECDSA-P256-SHA256 Credential=x" }, 400, "InvalidArgument", /Unsupported Authorization Type/],
      [
        "SigV2 without a colon",
        { authorization: `AWS ${key}`, date: new Date().toUTCString() },
        400,
        "AuthorizationHeaderMalformed",
        /AWS <accessKeyId>:<signature>/,
      ],
      [
        "SigV2 signature not base64 of 20 bytes",
        { authorization: `AWS ${key}:abc`, date: new Date().toUTCString() },
        400,
        "AuthorizationHeaderMalformed",
        /'abc' is malformed/,
      ],
      [
        "SigV4 signature not hex",
        { authorization: `AWS4-HMAC-SHA256 Credential=${key}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=xyz` },
        400,
        "AuthorizationHeaderMalformed",
        /'xyz' is malformed/,
      ],
      ["anonymous", {}, 403, "AccessDenied", /Anonymous access/],
    ];
    for (const [name, headers, status, code, message] of cases) {
      const response = await fetchText(url, { headers });
      const error = s3Error(response.text);
      expect([name, response.status, error?.code]).toEqual([name, status, code]);
      expect(error?.message).toMatch(message);
    }
    for (const [query, message] of [
      ["X-Amz-Credential=x", /requires the X-Amz-Algorithm/],
      ["X-Amz-Algorithm=AWS4-HMAC-SHA512", /only supports "AWS4-HMAC-SHA256"/],
      ["AWSAccessKeyId=x", /requires the AWSAccessKeyId, Signature and Expires/],
    ] as const) {
      const response = await fetchText(`${url}?${query}`);
      expect([query, response.status, s3Error(response.text)?.code]).toEqual([query, 400, "AuthorizationQueryParametersError"]);
      expect(s3Error(response.text)?.message).toMatch(message);
    }
    // A SigV4 URL whose signature is not 64 hexadecimal digits.
    const presigned = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
        params: { path: ids, query: { filePath: "x", method: "GET" } },
      }),
    );
    const malformed = await fetchText(presigned.url.replace(/X-Amz-Signature=[0-9a-f]+/, "X-Amz-Signature=xyz"));
    expect([malformed.status, s3Error(malformed.text)?.code]).toEqual([400, "AuthorizationQueryParametersError"]);
    expect(s3Error(malformed.text)?.message).toMatch(/'xyz' is malformed/);
    expect((await fetchText(presigned.url)).status).toBe(200);
  });
});
