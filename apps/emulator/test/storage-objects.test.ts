// The S3 operations on objects, listings and multipart uploads beyond the everyday path of storage.test.ts,
// through the AWS SDK for JavaScript: conditional reads, copies and writes, response header overrides, ListObjects
// V1 with markers, URL-encoded listings, ListParts pages, UploadPartCopy ranges, metadata directives, the bucket
// calls, and the errors of bad input (S3's codes and statuses).
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contractClient, startTestEmulator } from "./helpers.js";
import { md5, newProject, newTask, prefixOf, refusal, s3Error, s3For, signedRequest, type Token, taskToken } from "./storage-helpers.js";

let emulator: SpawnedEmulator;
let token: Token;
let s3: S3Client;
let Bucket: string;
let prefix: string;

beforeAll(async () => {
  emulator = await startTestEmulator();
  const client = contractClient(emulator, { apiKey: emulator.apiKey });
  token = await taskToken(client, await newTask(client, await newProject(client)));
  s3 = s3For(token);
  Bucket = token.storageName;
  prefix = prefixOf(token);
});

afterAll(async () => {
  await emulator?.stop();
});

async function put(Key: string, Body: string | Buffer, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) {
  return s3.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }));
}

async function read(Key: string): Promise<string> {
  return (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();
}

describe("conditional requests", () => {
  it("GET and HEAD: If-Match and If-Unmodified-Since fail with 412, If-None-Match and If-Modified-Since answer 304", async () => {
    const Key = `${prefix}cond/read.txt`;
    const { ETag } = await put(Key, "v1");
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
    const modified = head.LastModified!;
    const earlier = new Date(modified.getTime() - 60_000);
    const later = new Date(modified.getTime() + 60_000);
    expect((await s3.send(new GetObjectCommand({ Bucket, Key, IfMatch: ETag }))).ETag).toBe(ETag);
    expect(await refusal(s3.send(new GetObjectCommand({ Bucket, Key, IfMatch: '"0"' })))).toEqual({
      code: "PreconditionFailed",
      status: 412,
    });
    expect(await refusal(s3.send(new HeadObjectCommand({ Bucket, Key, IfMatch: '"0"' })))).toMatchObject({ status: 412 });
    expect(await refusal(s3.send(new GetObjectCommand({ Bucket, Key, IfUnmodifiedSince: earlier })))).toEqual({
      code: "PreconditionFailed",
      status: 412,
    });
    expect(await refusal(s3.send(new GetObjectCommand({ Bucket, Key, IfModifiedSince: later })))).toMatchObject({ status: 304 });
    expect(await refusal(s3.send(new HeadObjectCommand({ Bucket, Key, IfNoneMatch: ETag })))).toMatchObject({ status: 304 });
    expect((await s3.send(new GetObjectCommand({ Bucket, Key, IfModifiedSince: earlier }))).ContentLength).toBe(2);
    // S3's precedence: a matching If-Match wins over a failing If-Unmodified-Since.
    expect((await s3.send(new GetObjectCommand({ Bucket, Key, IfMatch: ETag, IfUnmodifiedSince: earlier }))).ETag).toBe(ETag);
    // The 412 body names the condition, in S3's XML error shape.
    const raw = await signedRequest(token, { method: "GET", path: `/s3/${Bucket}/${Key}`, headers: { "if-match": '"0"' } });
    expect([raw.status, s3Error(raw.text)?.code, /<Condition>If-Match<\/Condition>/.test(raw.text)]).toEqual([
      412,
      "PreconditionFailed",
      true,
    ]);
  });

  it("copies: x-amz-copy-source-if-* are checked on the source, every failure 412, and nothing is written", async () => {
    const source = `${prefix}cond/source.txt`;
    const { ETag } = await put(source, "source");
    const modified = (await s3.send(new HeadObjectCommand({ Bucket, Key: source }))).LastModified!;
    const CopySource = `${Bucket}/${source}`;
    const copy = (Key: string, extra: Partial<ConstructorParameters<typeof CopyObjectCommand>[0]>) =>
      s3.send(new CopyObjectCommand({ Bucket, Key, CopySource, ...extra }));
    const refusals = [
      { CopySourceIfMatch: '"0"' },
      { CopySourceIfNoneMatch: ETag },
      { CopySourceIfModifiedSince: new Date(modified.getTime() + 60_000) },
      { CopySourceIfUnmodifiedSince: new Date(modified.getTime() - 60_000) },
    ];
    for (const [i, condition] of refusals.entries()) {
      expect([condition, await refusal(copy(`${prefix}cond/refused-${i}`, condition))]).toEqual([
        condition,
        { code: "PreconditionFailed", status: 412 },
      ]);
      expect(await refusal(s3.send(new HeadObjectCommand({ Bucket, Key: `${prefix}cond/refused-${i}` })))).toMatchObject({ status: 404 });
    }
    await copy(`${prefix}cond/copied`, { CopySourceIfMatch: ETag, CopySourceIfNoneMatch: '"0"' });
    expect(await read(`${prefix}cond/copied`)).toBe("source");
  });

  it("writes: If-None-Match: * creates only a new key, If-Match replaces only that version (PutObject and CompleteMultipartUpload)", async () => {
    const Key = `${prefix}cond/write.txt`;
    const first = await put(Key, "first", { IfNoneMatch: "*" });
    expect(await refusal(put(Key, "second", { IfNoneMatch: "*" }))).toEqual({ code: "PreconditionFailed", status: 412 });
    expect(await read(Key)).toBe("first");
    expect(await refusal(put(Key, "second", { IfMatch: '"0"' }))).toEqual({ code: "PreconditionFailed", status: 412 });
    const second = await put(Key, "second", { IfMatch: first.ETag });
    expect(await read(Key)).toBe("second");
    // The ETag of the replaced version no longer matches; a key that does not exist has no version to match.
    expect(await refusal(put(Key, "third", { IfMatch: first.ETag }))).toEqual({ code: "PreconditionFailed", status: 412 });
    expect(await refusal(put(`${prefix}cond/absent.txt`, "x", { IfMatch: second.ETag }))).toEqual({ code: "NoSuchKey", status: 404 });

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const part = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: "multi" }));
    const complete = (extra: { IfNoneMatch?: string }) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          ...extra,
        }),
      );
    expect(await refusal(complete({ IfNoneMatch: "*" }))).toEqual({ code: "PreconditionFailed", status: 412 });
    // The refused completion left the upload open: it completes without the condition.
    expect((await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }))).Parts).toHaveLength(1);
    await complete({});
    expect(await read(Key)).toBe("multi");
  });
});

describe("objects", () => {
  it("answer GetObject's response-* overrides", async () => {
    const Key = `${prefix}obj/override.txt`;
    await put(Key, "o", { ContentType: "text/plain" });
    const got = await s3.send(
      new GetObjectCommand({
        Bucket,
        Key,
        ResponseContentType: "application/x-over",
        ResponseContentDisposition: 'attachment; filename="o.txt"',
        ResponseCacheControl: "max-age=5",
        ResponseContentLanguage: "fr",
        ResponseContentEncoding: "identity",
        ResponseExpires: new Date("2030-01-01T00:00:00Z"),
      }),
    );
    expect(got).toMatchObject({
      ContentType: "application/x-over",
      ContentDisposition: 'attachment; filename="o.txt"',
      CacheControl: "max-age=5",
      ContentLanguage: "fr",
      ContentEncoding: "identity",
    });
    expect(got.ExpiresString ?? got.Expires?.toUTCString()).toMatch(/2030/);
  });

  it("copy with REPLACE takes the request's metadata, COPY the source's, and copying onto itself needs REPLACE", async () => {
    const Key = `${prefix}obj/meta.txt`;
    await put(Key, "m", { ContentType: "text/plain", Metadata: { a: "1" } });
    const CopySource = `${Bucket}/${Key}`;
    await s3.send(
      new CopyObjectCommand({
        Bucket,
        Key: `${prefix}obj/replaced.txt`,
        CopySource,
        MetadataDirective: "REPLACE",
        ContentType: "text/csv",
        Metadata: { b: "2" },
      }),
    );
    expect(await s3.send(new HeadObjectCommand({ Bucket, Key: `${prefix}obj/replaced.txt` }))).toMatchObject({
      ContentType: "text/csv",
      Metadata: { b: "2" },
    });
    expect(await refusal(s3.send(new CopyObjectCommand({ Bucket, Key, CopySource })))).toEqual({ code: "InvalidRequest", status: 400 });
    await s3.send(new CopyObjectCommand({ Bucket, Key, CopySource, MetadataDirective: "REPLACE", Metadata: { c: "3" } }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key }))).Metadata).toEqual({ c: "3" });
    expect(
      await refusal(s3.send(new CopyObjectCommand({ Bucket, Key: `${prefix}obj/x`, CopySource: `${Bucket}/${prefix}obj/missing` }))),
    ).toEqual({ code: "NoSuchKey", status: 404 });
    expect(await refusal(s3.send(new CopyObjectCommand({ Bucket, Key: `${prefix}obj/x`, CopySource: `no-such-bucket/${Key}` })))).toEqual({
      code: "NoSuchBucket",
      status: 404,
    });
  });

  it("have an empty tag set; other sub-resources are NotImplemented (501)", async () => {
    const Key = `${prefix}obj/tagged.txt`;
    await put(Key, "t");
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket, Key }))).TagSet).toEqual([]);
    expect(await refusal(s3.send(new GetObjectTaggingCommand({ Bucket, Key: `${prefix}obj/none` })))).toEqual({
      code: "NoSuchKey",
      status: 404,
    });
    expect(await refusal(s3.send(new GetBucketAclCommand({ Bucket })))).toEqual({ code: "NotImplemented", status: 501 });
  });
});

describe("listings", () => {
  beforeAll(async () => {
    for (const k of ["a/1", "a/2", "b", "c d/1", "e"]) await put(`${prefix}ls/${k}`, k);
  });

  it("ListObjects V1 pages with Marker and NextMarker (with a delimiter)", async () => {
    const seen: string[] = [];
    let Marker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectsCommand({ Bucket, Prefix: `${prefix}ls/`, Delimiter: "/", MaxKeys: 2, Marker }));
      seen.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!), ...(page.Contents ?? []).map((c) => c.Key!));
      if (!page.IsTruncated) break;
      Marker = page.NextMarker;
      expect(Marker).toBeDefined();
    }
    expect(seen.map((k) => k.slice(prefix.length)).sort()).toEqual(["ls/a/", "ls/b", "ls/c d/", "ls/e"]);
  });

  it("encodes keys with encoding-type=url, and refuses a bad max-keys, encoding or continuation token (400)", async () => {
    const encoded = await signedRequest(token, {
      method: "GET",
      path: `/s3/${Bucket}`,
      query: `list-type=2&prefix=${encodeURIComponent(`${prefix}ls/c`)}&encoding-type=url`,
    });
    expect(encoded.status).toBe(200);
    expect(encoded.text).toContain(`<Key>${prefix.split("/").map(encodeURIComponent).join("/")}ls/c%20d/1</Key>`);
    expect(encoded.text).toContain("<EncodingType>url</EncodingType>");
    for (const [query, argument] of [
      ["list-type=2&max-keys=many", "max-keys"],
      ["list-type=2&encoding-type=base64", "encoding-type"],
      ["list-type=2&continuation-token=bm90LWEtdG9rZW4", "continuation-token"],
    ]) {
      const response = await signedRequest(token, {
        method: "GET",
        path: `/s3/${Bucket}`,
        query: `${query}&prefix=${encodeURIComponent(prefix)}`,
      });
      expect([
        query,
        response.status,
        s3Error(response.text)?.code,
        response.text.includes(`<ArgumentName>${argument}</ArgumentName>`),
      ]).toEqual([query, 400, "InvalidArgument", true]);
    }
  });

  it("answer the bucket calls: HeadBucket, GetBucketLocation; buckets cannot be created or deleted", async () => {
    expect((await s3.send(new HeadBucketCommand({ Bucket }))).$metadata.httpStatusCode).toBe(200);
    expect((await s3.send(new GetBucketLocationCommand({ Bucket }))).LocationConstraint).toBeUndefined();
    for (const method of ["PUT", "DELETE"]) {
      const response = await signedRequest(token, { method, path: `/s3/${Bucket}` });
      expect([method, response.status, s3Error(response.text)?.code]).toEqual([method, 403, "AccessDenied"]);
    }
  });
});

describe("multipart uploads", () => {
  it("list parts page by page, copy ranges of an object into parts, and refuse bad part numbers and ranges", async () => {
    const sourceKey = `${prefix}mp/source.bin`;
    const source = Buffer.alloc(6 * 1024 * 1024, "s");
    source.write("HEAD", 0);
    await put(sourceKey, source);
    const Key = `${prefix}mp/target.bin`;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const copied = await s3.send(
      new UploadPartCopyCommand({
        Bucket,
        Key,
        UploadId,
        PartNumber: 1,
        CopySource: `${Bucket}/${sourceKey}`,
        CopySourceRange: `bytes=0-${5 * 1024 * 1024 - 1}`,
      }),
    );
    expect(copied.CopyPartResult?.ETag).toBe(`"${md5(source.subarray(0, 5 * 1024 * 1024))}"`);
    for (const PartNumber of [2, 3])
      await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: `part ${PartNumber}` }));
    const first = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId, MaxParts: 2 }));
    expect([first.Parts?.map((p) => p.PartNumber), first.IsTruncated, first.NextPartNumberMarker]).toEqual([[1, 2], true, "2"]);
    const rest = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId, PartNumberMarker: first.NextPartNumberMarker }));
    expect([rest.Parts?.map((p) => p.PartNumber), rest.IsTruncated]).toEqual([[3], false]);

    const copyPart = (CopySourceRange: string) =>
      s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 4, CopySource: `${Bucket}/${sourceKey}`, CopySourceRange }));
    expect(await refusal(copyPart(`bytes=0-${source.length}`))).toEqual({ code: "InvalidArgument", status: 400 });
    expect(await refusal(copyPart("bytes=5-1"))).toEqual({ code: "InvalidArgument", status: 400 });
    for (const PartNumber of [0, 10001]) {
      expect(await refusal(s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: "x" })))).toEqual({
        code: "InvalidArgument",
        status: 400,
      });
    }
    expect(
      await refusal(s3.send(new UploadPartCommand({ Bucket, Key: `${prefix}mp/other.bin`, UploadId, PartNumber: 1, Body: "x" }))),
    ).toEqual({
      code: "NoSuchUpload",
      status: 404,
    });
    // Part 2 is small, so it cannot be followed by another: the object is parts 1 and 3.
    const parts = [first.Parts![0]!, rest.Parts![0]!].map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag }));
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    expect(done.Location).toBe(`${token.endpointUrl}/${Bucket}/${Key}`);
    const whole = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());
    expect(whole.length).toBe(5 * 1024 * 1024 + 6);
    expect(whole.subarray(0, 4).toString()).toBe("HEAD");
    expect(whole.subarray(5 * 1024 * 1024).toString()).toBe("part 3");
  });
});
