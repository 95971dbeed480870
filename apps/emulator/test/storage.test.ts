// Storage as clients meet it: the nine HTC storage operations through the contract-validating client, and the
// S3-compatible endpoint through the AWS SDK for JavaScript (client-s3, lib-storage, s3-request-presigner) and
// raw SigV4 requests: what credentials reach and what they are refused, presigned URLs, multipart uploads,
// aws-chunked bodies with chunk signatures and trailing checksums, and the clock-driven expiry.
import { createHash, createHmac } from "node:crypto";
import { type HtcClient, HtcApiError } from "@htcemu/client";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerFor, contractClient, http, secondWorkspace, startTestEmulator, sent } from "./helpers.js";
import {
  advanceClock,
  emulatorNow,
  errorCode,
  type Ids,
  md5,
  newProject,
  newTask,
  prefixOf,
  projectToken,
  refusal,
  s3For,
  signedRequest,
  type Token,
  taskToken,
} from "./storage-helpers.js";

let emulator: SpawnedEmulator;
let client: HtcClient;

beforeAll(async () => {
  emulator = await startTestEmulator();
  client = contractClient(emulator, { apiKey: emulator.apiKey });
});

afterAll(async () => {
  await emulator?.stop();
});

async function text(s3: S3Client, Bucket: string, Key: string, Range?: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket, Key, ...(Range ? { Range } : {}) }));
  return object.Body!.transformToString();
}

describe("the HTC storage operations", () => {
  it("issue task credentials for the default region with the paths, expiry and endpoint clients read", async () => {
    const projectId = await newProject(client, ["AWS_US_EAST_2", "GCP_US_CENTRAL_1"]);
    const ids = await newTask(client, projectId);
    const now = await emulatorNow(emulator);
    const token = await taskToken(client, ids);
    expect(token).toMatchObject({
      projectId,
      region: "AWS_US_EAST_2",
      storageName: "htc-storage-aws-us-east-2",
      provider: "AWS",
      projectSharedStoragePath: `s3://htc-storage-aws-us-east-2/projects/${projectId}/shared/`,
      storagePath: `s3://htc-storage-aws-us-east-2/projects/${projectId}/tasks/${ids.taskId}/`,
      endpointUrl: `${emulator.rootUrl}/s3`,
    });
    expect(token.user).toMatch(/^\d{12}:\w+$/);
    expect(token.credentials.AWS_ACCESS_KEY_ID).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(token.credentials.AWS_SECRET_ACCESS_KEY).toHaveLength(40);
    const lifetime = new Date(token.expiration).getTime() - now.getTime();
    expect(lifetime).toBeGreaterThan(3590_000);
    expect(lifetime).toBeLessThan(3610_000);
  });

  it("issue credentials per region and for every region, in the project's order, and 404 for other regions", async () => {
    const projectId = await newProject(client, ["GCP_US_CENTRAL_1", "AWS_US_WEST_2"]);
    const ids = await newTask(client, projectId);
    const perRegion = (await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/token/{region}", {
        params: { path: { ...ids, region: "AWS_US_WEST_2" } },
      }),
    )) as Token;
    expect(perRegion).toMatchObject({ region: "AWS_US_WEST_2", storageName: "htc-storage-aws-us-west-2", provider: "AWS" });
    const all = await sent(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/tokens", { params: { path: ids } }));
    expect(all.defaultRegion).toBe("GCP_US_CENTRAL_1");
    expect(all.regionStores.map((s) => [s.region, s.provider, s.storageName])).toEqual([
      ["GCP_US_CENTRAL_1", "GCP", "htc-storage-gcp-us-central-1"],
      ["AWS_US_WEST_2", "AWS", "htc-storage-aws-us-west-2"],
    ]);
    const projectTokens = await sent(client.api.GET("/htc/projects/{projectId}/storage/tokens", { params: { path: { projectId } } }));
    expect(projectTokens.regionStores.map((s) => s.storagePath)).toEqual([
      `s3://htc-storage-gcp-us-central-1/projects/${projectId}/shared/`,
      `s3://htc-storage-aws-us-west-2/projects/${projectId}/shared/`,
    ]);
    const shared = (await sent(
      client.api.GET("/htc/projects/{projectId}/storage/token/{region}", { params: { path: { projectId, region: "AWS_US_WEST_2" } } }),
    )) as Token;
    expect(shared.storagePath).toBe(shared.projectSharedStoragePath);
    const regional = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/regional-storage", { params: { path: ids } }),
    );
    expect(regional.rescaleRegion).toBe("GCP_US_CENTRAL_1");
    expect(regional.regionalStores[1]).toMatchObject({
      region: "AWS_US_WEST_2",
      projectPath: `s3://htc-storage-aws-us-west-2/projects/${projectId}/shared/`,
      taskPath: `s3://htc-storage-aws-us-west-2/projects/${projectId}/tasks/${ids.taskId}/`,
      endpointUrl: `${emulator.rootUrl}/s3`,
    });
    // The regional overview's credentials reach the task's folder of that region.
    const creds = regional.regionalStores[1]!.credentials as Token["credentials"];
    const s3 = s3For({ ...shared, credentials: creds });
    await s3.send(
      new PutObjectCommand({ Bucket: "htc-storage-aws-us-west-2", Key: `projects/${projectId}/tasks/${ids.taskId}/r.txt`, Body: "r" }),
    );

    const bearer = await bearerFor(emulator, emulator.apiKey);
    for (const path of [
      `/htc/projects/${projectId}/storage/token/AWS_EU_WEST_1`,
      `/htc/projects/${projectId}/tasks/${ids.taskId}/storage/token/AWS_EU_WEST_1`,
      `/htc/projects/${projectId}/tasks/00000000-0000-0000-0000-000000000000/storage/token`,
      "/htc/projects/00000000-0000-0000-0000-000000000000/storage/token",
    ]) {
      expect((await http(`${emulator.baseUrl}${path}`, { headers: { Authorization: `Bearer ${bearer}` } })).status).toBe(404);
    }
  });

  it("sign presigned PUT and GET URLs for one object, and refuse bad file paths with 400", async () => {
    const projectId = await newProject(client);
    const ids = await newTask(client, projectId);
    const put = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
        params: { path: ids, query: { filePath: "out/result.json" } },
      }),
    );
    expect(put.url).toContain(`${emulator.rootUrl}/s3/${put.storageName}/projects/${projectId}/tasks/${ids.taskId}/out/result.json?`);
    expect(put.url).toContain("X-Amz-Signature=");
    expect((await fetch(put.url, { method: "PUT", body: '{"ok":true}' })).status).toBe(200);
    const get = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
        params: { path: ids, query: { filePath: "out/result.json", method: "GET" } },
      }),
    );
    const fetched = await fetch(get.url);
    expect(fetched.status).toBe(200);
    expect(await fetched.text()).toBe('{"ok":true}');
    // A URL reaches its own object with its own method only.
    expect((await fetch(put.url)).status).toBe(403);
    expect(errorCode(await (await fetch(put.url.replace("result.json", "other.json"), { method: "PUT", body: "x" })).text())).toBe(
      "SignatureDoesNotMatch",
    );
    expect(errorCode(await (await fetch(get.url.replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${"0".repeat(64)}`))).text())).toBe(
      "SignatureDoesNotMatch",
    );

    const shared = await sent(
      client.api.GET("/htc/projects/{projectId}/storage/presigned-url", {
        params: { path: { projectId }, query: { filePath: "inputs/a.csv" } },
      }),
    );
    expect(shared.url).toContain(`/projects/${projectId}/shared/inputs/a.csv?`);
    expect(shared.region).toBe("AWS_US_WEST_2");
    expect((await fetch(shared.url, { method: "PUT", body: "a,b" })).status).toBe(200);

    const bearer = await bearerFor(emulator, emulator.apiKey);
    const headers = { Authorization: `Bearer ${bearer}` };
    const base = `${emulator.baseUrl}/htc/projects/${projectId}/storage/presigned-url`;
    for (const query of ["", "?filePath=", "?filePath=%2Fabs", "?filePath=a%2F..%2Fb", "?filePath=..", "?filePath=x&method=POST"]) {
      expect((await http(`${base}${query}`, { headers })).status).toBe(400);
    }
  });

  it("expire presigned URLs by the emulator's clock", async () => {
    const other = await startTestEmulator();
    try {
      const c = contractClient(other, { apiKey: other.apiKey });
      const ids = await newTask(c, await newProject(c));
      const put = await sent(
        c.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
          params: { path: ids, query: { filePath: "late.txt" } },
        }),
      );
      await advanceClock(other, 3601);
      const response = await fetch(put.url, { method: "PUT", body: "late" });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain("Request has expired");
    } finally {
      await other.stop();
    }
  });

  it("answer 404 for a deleted task, whose credentials stop working and whose objects are gone", async () => {
    const projectId = await newProject(client);
    const ids = await newTask(client, projectId);
    const token = await taskToken(client, ids);
    const s3 = s3For(token);
    await s3.send(new PutObjectCommand({ Bucket: token.storageName, Key: `${prefixOf(token)}kept.txt`, Body: "x" }));
    await sent(client.api.DELETE("/htc/projects/{projectId}/tasks/{taskId}", { params: { path: ids } }));
    const bearer = await bearerFor(emulator, emulator.apiKey);
    for (const op of ["storage/token", "storage/tokens", "storage/regional-storage", "storage/presigned-url?filePath=a"]) {
      expect(
        (
          await http(`${emulator.baseUrl}/htc/projects/${projectId}/tasks/${ids.taskId}/${op}`, {
            headers: { Authorization: `Bearer ${bearer}` },
          })
        ).status,
      ).toBe(404);
    }
    expect(await refusal(s3.send(new GetObjectCommand({ Bucket: token.storageName, Key: `${prefixOf(token)}kept.txt` })))).toEqual({
      code: "AccessDenied",
      status: 403,
    });
  });

  it("let a job token reach its own project's and task's storage only", async () => {
    const whoami = await sent(client.api.GET("/auth/whoami"));
    const projectId = await newProject(client);
    const ids = await newTask(client, projectId);
    const otherProject = await newProject(client);
    const { body } = await http(`${emulator.rootUrl}/_emulator/v1/job-tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId: whoami.user.userId, ...ids }),
    });
    const jobClient = contractClient(emulator, { bearerToken: (body as { bearerToken: string }).bearerToken });
    const shared = await projectToken(jobClient, projectId);
    expect(shared.storagePath).toBe(`s3://${shared.storageName}/projects/${projectId}/shared/`);
    await sent(jobClient.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/tokens", { params: { path: ids } }));
    await sent(
      jobClient.api.GET("/htc/projects/{projectId}/storage/presigned-url", { params: { path: { projectId }, query: { filePath: "f" } } }),
    );
    await expect(projectToken(jobClient, otherProject)).rejects.toMatchObject({ status: 403 });
    await expect(
      sent(jobClient.api.GET("/htc/projects/{projectId}/storage/tokens", { params: { path: { projectId: otherProject } } })),
    ).rejects.toBeInstanceOf(HtcApiError);
  });
});

describe("the S3 endpoint with task credentials (AWS SDK)", () => {
  let token: Token;
  let s3: S3Client;
  let Bucket: string;
  let prefix: string;
  let ids: Ids;

  beforeAll(async () => {
    ids = await newTask(client, await newProject(client));
    token = await taskToken(client, ids);
    s3 = s3For(token);
    Bucket = token.storageName;
    prefix = prefixOf(token);
  });

  it("puts, gets (whole and ranges), heads, copies and deletes objects with their metadata and MD5 ETags", async () => {
    const Key = `${prefix}dir/hello world+ü.txt`;
    const put = await s3.send(
      new PutObjectCommand({
        Bucket,
        Key,
        Body: "hello world",
        ContentType: "text/plain",
        Metadata: { stage: "render" },
        CacheControl: "no-cache",
      }),
    );
    expect(put.ETag).toBe(`"${md5("hello world")}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(await got.Body!.transformToString()).toBe("hello world");
    expect(got).toMatchObject({
      ContentType: "text/plain",
      Metadata: { stage: "render" },
      CacheControl: "no-cache",
      ContentLength: 11,
      ETag: put.ETag,
    });
    expect(await text(s3, Bucket, Key, "bytes=6-")).toBe("world");
    expect(await text(s3, Bucket, Key, "bytes=0-4")).toBe("hello");
    expect(await text(s3, Bucket, Key, "bytes=-3")).toBe("rld");
    const ranged = await s3.send(new GetObjectCommand({ Bucket, Key, Range: "bytes=2-3" }));
    expect(ranged.ContentRange).toBe("bytes 2-3/11");
    expect(await refusal(s3.send(new GetObjectCommand({ Bucket, Key, Range: "bytes=20-" })))).toEqual({
      code: "InvalidRange",
      status: 416,
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
    expect(head.ContentLength).toBe(11);
    expect(head.LastModified).toBeInstanceOf(Date);
    expect(await refusal(s3.send(new GetObjectCommand({ Bucket, Key, IfNoneMatch: put.ETag })))).toMatchObject({ status: 304 });

    const copy = await s3.send(
      new CopyObjectCommand({ Bucket, Key: `${prefix}copy.txt`, CopySource: `${Bucket}/${encodeURIComponent(Key)}` }),
    );
    expect(copy.CopyObjectResult?.ETag).toBe(put.ETag);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: `${prefix}copy.txt` }))).Metadata).toEqual({ stage: "render" });
    await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    expect(await refusal(s3.send(new GetObjectCommand({ Bucket, Key })))).toEqual({ code: "NoSuchKey", status: 404 });
    expect(await refusal(s3.send(new HeadObjectCommand({ Bucket, Key })))).toMatchObject({ status: 404 });
    // Deleting what does not exist succeeds, as in S3.
    await s3.send(new DeleteObjectCommand({ Bucket, Key }));
  });

  it("stores an empty object", async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: `${prefix}empty/`, Body: new Uint8Array(0) }));
    const object = await s3.send(new GetObjectCommand({ Bucket, Key: `${prefix}empty/` }));
    expect(object.ContentLength).toBe(0);
    expect(await object.Body!.transformToString()).toBe("");
  });

  it("streams request bodies of unknown length (aws-chunked with a trailing CRC32)", async () => {
    const { Readable } = await import("node:stream");
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(100_000, i));
    const Key = `${prefix}streamed.bin`;
    await new Upload({ client: s3, params: { Bucket, Key, Body: Readable.from(chunks) } }).done();
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(chunks))).toBe(true);
    // A part given as a stream of known length is sent aws-chunked with a trailing checksum.
    const body = Buffer.alloc(300_000, 7);
    await s3.send(new PutObjectCommand({ Bucket, Key: `${prefix}chunked.bin`, Body: Readable.from([body]), ContentLength: body.length }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: `${prefix}chunked.bin` }))).ETag).toBe(`"${md5(body)}"`);
  });

  it("uploads multipart (lib-storage), lists and aborts uploads, and enforces the part rules", async () => {
    const data = Buffer.alloc(12 * 1024 * 1024 + 123);
    for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
    const Key = `${prefix}big.bin`;
    const done = await new Upload({ client: s3, params: { Bucket, Key, Body: data }, partSize: 5 * 1024 * 1024, queueSize: 3 }).done();
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(got.ContentLength).toBe(data.length);
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    // A range across the boundary of two parts.
    const across = await s3.send(new GetObjectCommand({ Bucket, Key, Range: `bytes=${5 * 1024 * 1024 - 10}-${5 * 1024 * 1024 + 9}` }));
    expect(Buffer.from(await across.Body!.transformToByteArray()).equals(data.subarray(5 * 1024 * 1024 - 10, 5 * 1024 * 1024 + 10))).toBe(
      true,
    );

    const small = `${prefix}small-parts.bin`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: small, ContentType: "application/x-test" }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket, Key: small, UploadId, PartNumber: 1, Body: "first" }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket, Key: small, UploadId, PartNumber: 2, Body: "second" }));
    const parts = await s3.send(new ListPartsCommand({ Bucket, Key: small, UploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, 5, `"${md5("first")}"`],
      [2, 6, `"${md5("second")}"`],
    ]);
    const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: small, UploadId, MultipartUpload: { Parts } }));
    expect(
      await refusal(
        complete([
          { PartNumber: 1, ETag: p1.ETag! },
          { PartNumber: 2, ETag: p2.ETag! },
        ]),
      ),
    ).toEqual({ code: "EntityTooSmall", status: 400 });
    expect(
      await refusal(
        complete([
          { PartNumber: 2, ETag: p2.ETag! },
          { PartNumber: 1, ETag: p1.ETag! },
        ]),
      ),
    ).toEqual({ code: "InvalidPartOrder", status: 400 });
    expect(await refusal(complete([{ PartNumber: 1, ETag: p2.ETag! }]))).toEqual({ code: "InvalidPart", status: 400 });
    // A single (last) part may be small.
    const single = await complete([{ PartNumber: 2, ETag: p2.ETag! }]);
    expect(single.ETag).toMatch(/-1"$/);
    const object = await s3.send(new GetObjectCommand({ Bucket, Key: small }));
    expect(object.ContentType).toBe("application/x-test");
    expect(await object.Body!.transformToString()).toBe("second");

    const aborted = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: `${prefix}aborted.bin` }));
    await s3.send(new UploadPartCommand({ Bucket, Key: `${prefix}aborted.bin`, UploadId: aborted.UploadId, PartNumber: 1, Body: "x" }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: `${prefix}aborted.bin`, UploadId: aborted.UploadId }));
    expect(await refusal(s3.send(new ListPartsCommand({ Bucket, Key: `${prefix}aborted.bin`, UploadId: aborted.UploadId })))).toEqual({
      code: "NoSuchUpload",
      status: 404,
    });
    expect(await refusal(s3.send(new HeadObjectCommand({ Bucket, Key: `${prefix}aborted.bin` })))).toMatchObject({ status: 404 });
  });

  it("lists with prefix, delimiter, max-keys and continuation, and deletes in batches", async () => {
    const base = `${prefix}list/`;
    const keys = ["a/1", "a/2", "b", "c/1", "c/2/x", "d", "e"].map((k) => `${base}${k}`);
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: base, Delimiter: "/", MaxKeys: 2, ContinuationToken }));
      seen.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!), ...(page.Contents ?? []).map((c) => c.Key!));
      expect(page.KeyCount).toBeLessThanOrEqual(2);
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      pages++;
    } while (ContinuationToken);
    expect(seen.sort()).toEqual([`${base}a/`, `${base}b`, `${base}c/`, `${base}d`, `${base}e`]);
    expect(pages).toBe(3);
    const flat = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: `${base}c/` }));
    expect(flat.Contents?.map((c) => c.Key)).toEqual([`${base}c/1`, `${base}c/2/x`]);
    const after = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: base, StartAfter: `${base}c/2/x` }));
    expect(after.Contents?.map((c) => c.Key)).toEqual([`${base}d`, `${base}e`]);

    const deleted = await s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Objects: [...keys.map((Key) => ({ Key })), { Key: `projects/${ids.projectId}/shared/x` }] },
      }),
    );
    expect(deleted.Deleted).toHaveLength(keys.length);
    expect(deleted.Errors?.map((e) => e.Code)).toEqual(["AccessDenied"]);
    expect((await s3.send(new ListObjectsV2Command({ Bucket, Prefix: base }))).KeyCount).toBe(0);
  });

  it("lists only the folder's keys when the prefix leads to it, and the one bucket", async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: `${prefix}visible.txt`, Body: "v" }));
    const other = await taskToken(client, await newTask(client, ids.projectId));
    await s3For(other).send(new PutObjectCommand({ Bucket, Key: `${prefixOf(other)}hidden.txt`, Body: "h" }));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: `projects/${ids.projectId}/` }));
    expect(listed.Contents!.every((c) => c.Key!.startsWith(prefix))).toBe(true);
    expect(listed.Contents!.map((c) => c.Key)).toContain(`${prefix}visible.txt`);
    const buckets = await s3.send(new ListBucketsCommand({}));
    expect(buckets.Buckets?.map((b) => b.Name)).toEqual([Bucket]);
  });

  it("accepts the SDK's presigned URLs and refuses them once tampered with", async () => {
    const Key = `${prefix}presigned.txt`;
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key }), { expiresIn: 600 });
    expect((await fetch(putUrl, { method: "PUT", body: "signed by the SDK" })).status).toBe(200);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 600 });
    expect(await (await fetch(getUrl)).text()).toBe("signed by the SDK");
    const tampered = await fetch(getUrl.replace("X-Amz-Expires=600", "X-Amz-Expires=601"));
    expect(tampered.status).toBe(403);
    expect(errorCode(await tampered.text())).toBe("SignatureDoesNotMatch");
  });

  it("verifies Content-MD5, x-amz-content-sha256 and x-amz-checksum-* and stores nothing when they do not match", async () => {
    const Key = `${prefix}digest.txt`;
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: "abc", ContentMD5: createHash("md5").update("abc").digest("base64") }));
    expect(
      await refusal(
        s3.send(
          new PutObjectCommand({
            Bucket,
            Key: `${prefix}bad-md5`,
            Body: "abc",
            ContentMD5: createHash("md5").update("abd").digest("base64"),
          }),
        ),
      ),
    ).toEqual({
      code: "BadDigest",
      status: 400,
    });
    const wrongHash = await signedRequest(token, {
      method: "PUT",
      path: `/s3/${Bucket}/${prefix}bad-sha`,
      body: "abc",
      payloadHash: createHash("sha256").update("abd").digest("hex"),
    });
    expect([wrongHash.status, errorCode(wrongHash.text)]).toEqual([400, "XAmzContentSHA256Mismatch"]);
    const wrongCrc = await signedRequest(token, {
      method: "PUT",
      path: `/s3/${Bucket}/${prefix}bad-crc`,
      body: "abc",
      headers: { "x-amz-checksum-crc32": "AAAAAA==" },
    });
    expect([wrongCrc.status, errorCode(wrongCrc.text)]).toEqual([400, "BadDigest"]);
    for (const k of ["bad-md5", "bad-sha", "bad-crc"]) {
      expect(await refusal(s3.send(new HeadObjectCommand({ Bucket, Key: `${prefix}${k}` })))).toMatchObject({ status: 404 });
    }
  });

  it("decodes aws-chunked bodies with chunk signatures and refuses a tampered chunk", async () => {
    const data = Buffer.alloc(70_000, "z");
    const chunkSizes = [65_536, data.length - 65_536, 0];
    const build = (tamper: boolean) => (s: { signature: string; key: Buffer; scope: string; longDate: string }) => {
      let previous = s.signature;
      const pieces: Buffer[] = [];
      let offset = 0;
      for (const size of chunkSizes) {
        const chunk = data.subarray(offset, offset + size);
        offset += size;
        const stringToSign = [
          "AWS4-HMAC-SHA256-PAYLOAD",
          s.longDate,
          s.scope,
          previous,
          createHash("sha256").update("").digest("hex"),
          createHash("sha256").update(chunk).digest("hex"),
        ].join("\n");
        previous = createHmac("sha256", s.key).update(stringToSign).digest("hex");
        const sent = tamper && size === chunkSizes[1] ? Buffer.alloc(size, "y") : chunk;
        pieces.push(Buffer.from(`${size.toString(16)};chunk-signature=${previous}\r\n`), sent, Buffer.from("\r\n"));
      }
      return Buffer.concat(pieces);
    };
    const headers = { "content-encoding": "aws-chunked", "x-amz-decoded-content-length": String(data.length) };
    const ok = await signedRequest(token, {
      method: "PUT",
      path: `/s3/${Bucket}/${prefix}chunk-signed.bin`,
      headers,
      payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      bodyFromSignature: build(false),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("etag")).toBe(`"${md5(data)}"`);
    const bad = await signedRequest(token, {
      method: "PUT",
      path: `/s3/${Bucket}/${prefix}chunk-tampered.bin`,
      headers,
      payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
      bodyFromSignature: build(true),
    });
    expect([bad.status, errorCode(bad.text)]).toEqual([403, "SignatureDoesNotMatch"]);
    expect(await refusal(s3.send(new HeadObjectCommand({ Bucket, Key: `${prefix}chunk-tampered.bin` })))).toMatchObject({ status: 404 });
  });
});

describe("the S3 endpoint refuses", () => {
  let token: Token;
  let ids: Ids;

  beforeAll(async () => {
    ids = await newTask(client, await newProject(client));
    token = await taskToken(client, ids);
  });

  it("another task's folder, the shared folder, another project, another region's bucket", async () => {
    const s3 = s3For(token);
    const Bucket = token.storageName;
    const sibling = await newTask(client, ids.projectId);
    const elsewhere = await newProject(client);
    for (const Key of [
      `projects/${ids.projectId}/tasks/${sibling.taskId}/x`,
      `projects/${ids.projectId}/shared/x`,
      `projects/${elsewhere}/tasks/${ids.taskId}/x`,
      `projects/${ids.projectId}/tasks/${ids.taskId}`,
      "x",
    ]) {
      expect(await refusal(s3.send(new PutObjectCommand({ Bucket, Key, Body: "x" })))).toEqual({ code: "AccessDenied", status: 403 });
      expect(await refusal(s3.send(new GetObjectCommand({ Bucket, Key })))).toEqual({ code: "AccessDenied", status: 403 });
    }
    expect(
      await refusal(s3.send(new ListObjectsV2Command({ Bucket, Prefix: `projects/${ids.projectId}/tasks/${sibling.taskId}/` }))),
    ).toEqual({
      code: "AccessDenied",
      status: 403,
    });
    expect(await refusal(s3.send(new ListObjectsV2Command({ Bucket, Prefix: `projects/${ids.projectId}/shared/` })))).toMatchObject({
      code: "AccessDenied",
    });
    expect(
      await refusal(s3.send(new PutObjectCommand({ Bucket: "htc-storage-gcp-us-central-1", Key: `${prefixOf(token)}x`, Body: "x" }))),
    ).toEqual({ code: "AccessDenied", status: 403 });
    expect(await refusal(s3.send(new GetObjectCommand({ Bucket: "no-such-bucket", Key: "x" })))).toEqual({
      code: "NoSuchBucket",
      status: 404,
    });
    // CopyObject from a folder the credentials do not reach.
    const shared = await projectToken(client, ids.projectId);
    await s3For(shared).send(new PutObjectCommand({ Bucket, Key: `${prefixOf(shared)}secret`, Body: "s" }));
    expect(
      await refusal(
        s3.send(new CopyObjectCommand({ Bucket, Key: `${prefixOf(token)}stolen`, CopySource: `${Bucket}/${prefixOf(shared)}secret` })),
      ),
    ).toEqual({ code: "AccessDenied", status: 403 });
  });

  it("project credentials outside the shared folder, and other workspaces' credentials", async () => {
    const shared = await projectToken(client, ids.projectId);
    const s3 = s3For(shared);
    await s3.send(new PutObjectCommand({ Bucket: shared.storageName, Key: `${prefixOf(shared)}in.txt`, Body: "in" }));
    expect(await refusal(s3.send(new GetObjectCommand({ Bucket: shared.storageName, Key: `${prefixOf(token)}x` })))).toMatchObject({
      code: "AccessDenied",
    });
    const foreign = await secondWorkspace(emulator, "Storage neighbours");
    const foreignClient = contractClient(emulator, { apiKey: foreign.apiKey });
    const foreignToken = await projectToken(foreignClient, await newProject(foreignClient));
    expect(
      await refusal(s3For(foreignToken).send(new GetObjectCommand({ Bucket: shared.storageName, Key: `${prefixOf(shared)}in.txt` }))),
    ).toMatchObject({ code: "AccessDenied", status: 403 });
    // Nor may a user ask for another workspace's project's credentials.
    await expect(projectToken(foreignClient, ids.projectId)).rejects.toMatchObject({ status: 404 });
  });

  it("a wrong secret, a missing or forged session token, anonymous requests", async () => {
    const Bucket = token.storageName;
    const Key = `${prefixOf(token)}x`;
    expect(await refusal(s3For(token, { secretAccessKey: "x".repeat(40) }).send(new GetObjectCommand({ Bucket, Key })))).toEqual({
      code: "SignatureDoesNotMatch",
      status: 403,
    });
    expect(await refusal(s3For(token, { sessionToken: undefined }).send(new GetObjectCommand({ Bucket, Key })))).toEqual({
      code: "AccessDenied",
      status: 403,
    });
    expect(await refusal(s3For(token, { sessionToken: "FwoGZXIvYXdzEXAMPLE" }).send(new GetObjectCommand({ Bucket, Key })))).toEqual({
      code: "InvalidToken",
      status: 400,
    });
    // Another set's token with this key id.
    const other = await taskToken(client, ids);
    expect(
      await refusal(s3For(token, { sessionToken: other.credentials.AWS_SESSION_TOKEN }).send(new GetObjectCommand({ Bucket, Key }))),
    ).toEqual({ code: "InvalidAccessKeyId", status: 403 });
    const anonymous = await fetch(`${token.endpointUrl}/${Bucket}/${Key}`);
    expect(anonymous.status).toBe(403);
    expect(errorCode(await anonymous.text())).toBe("AccessDenied");
  });

  it("keys with a '..' segment or a leading '/'", async () => {
    const prefix = prefixOf(token);
    for (const path of [
      `/s3/${token.storageName}/${prefix}../../shared/x`,
      `/s3/${token.storageName}/${prefix}a/%2E%2E/b`,
      `/s3/${token.storageName}//${prefix}x`,
      `/s3/${token.storageName}/${prefix}..`,
    ]) {
      const response = await signedRequest(token, { method: "PUT", path, body: "x" });
      expect([path, response.status, errorCode(response.text)]).toEqual([path, 400, "InvalidArgument"]);
    }
    const s3 = s3For(token);
    expect(await refusal(s3.send(new PutObjectCommand({ Bucket: token.storageName, Key: `${prefix}a/../b`, Body: "x" })))).toEqual({
      code: "InvalidArgument",
      status: 400,
    });
  });

  it("expired credentials, by the emulator's clock", async () => {
    const other = await startTestEmulator();
    try {
      const c = contractClient(other, { apiKey: other.apiKey });
      const fresh = await taskToken(c, await newTask(c, await newProject(c)));
      const s3 = s3For(fresh);
      const Key = `${prefixOf(fresh)}x`;
      await s3.send(new PutObjectCommand({ Bucket: fresh.storageName, Key, Body: "x" }));
      await advanceClock(other, 3500);
      expect(await text(s3, fresh.storageName, Key)).toBe("x");
      await advanceClock(other, 101);
      expect(await refusal(s3.send(new GetObjectCommand({ Bucket: fresh.storageName, Key })))).toEqual({
        code: "ExpiredToken",
        status: 400,
      });
      // A fresh set works again.
      const renewed = s3For(await taskToken(c, { projectId: fresh.projectId, taskId: prefixOf(fresh).split("/")[3]! }));
      expect(await text(renewed, fresh.storageName, Key)).toBe("x");
    } finally {
      await other.stop();
    }
  });
});
