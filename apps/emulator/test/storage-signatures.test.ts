// Signature Version 2 verification (storage/sigv2.ts through signature.ts) against the worked examples of S3's
// REST authentication documentation (its example credentials, requests and signatures), and what each kind of
// Authorization header or query is taken for.
import { describe, expect, it } from "vitest";
import { S3Error } from "../src/storage/errors.js";
import { parseQuery, type RequestView } from "../src/storage/request-view.js";
import { parseAuth, verifySignature } from "../src/storage/signature.js";

/** The documentation's example credentials. */
const ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/** A request as the endpoint receives it under `/s3` (path-style: the bucket is the first segment). */
function view(method: string, resource: string, headers: Record<string, string | string[]>, rawQuery = ""): RequestView {
  return { method, rawPath: `/s3${resource}`, resourcePath: resource, rawQuery, headers };
}

/** Verifies a request; the S3 error code when it is refused. */
async function check(request: RequestView): Promise<string> {
  const query = parseQuery(request.rawQuery);
  try {
    const auth = parseAuth(request, query);
    if (!auth) return "anonymous";
    await verifySignature(request, query, auth, SECRET);
    return "ok";
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
}

const authorization = (signature: string) => `AWS ${ACCESS_KEY}:${signature}`;

describe("SigV2 against S3's documented examples", () => {
  const examples: Array<[string, RequestView]> = [
    [
      "GET an object",
      view("GET", "/johnsmith/photos/puppy.jpg", {
        date: "Tue, 27 Mar 2007 19:36:42 +0000",
        authorization: authorization("bWq2s1WEIj+Ydj0vQ697zp+IXMU="),
      }),
    ],
    [
      "PUT an object with a Content-Type",
      view("PUT", "/johnsmith/photos/puppy.jpg", {
        "content-type": "image/jpeg",
        "content-length": "94328",
        date: "Tue, 27 Mar 2007 21:15:45 +0000",
        authorization: authorization("MyyxeRY7whkBe+bq8fHCL/2kKUg="),
      }),
    ],
    [
      "list a bucket (parameters that are no sub-resource are not signed)",
      view(
        "GET",
        "/johnsmith/",
        { date: "Tue, 27 Mar 2007 19:42:41 +0000", authorization: authorization("htDYFYduRNen8P9ZfE/s9SuKy0U=") },
        "prefix=photos&max-keys=50&marker=puppy",
      ),
    ],
    [
      "a sub-resource (?acl)",
      view(
        "GET",
        "/johnsmith/",
        { date: "Tue, 27 Mar 2007 19:44:46 +0000", authorization: authorization("c2WLPFtWHVgbEmeEG93a4cG37dM=") },
        "acl",
      ),
    ],
    [
      "DELETE dated by x-amz-date",
      view("DELETE", "/johnsmith/photos/puppy.jpg", {
        date: "Tue, 27 Mar 2007 21:20:27 +0000",
        "x-amz-date": "Tue, 27 Mar 2007 21:20:26 +0000",
        authorization: authorization("lx3byBScXR6KzyMaifNkardMwNk="),
      }),
    ],
    [
      "PUT with amz headers, one of them repeated",
      view("PUT", "/static.johnsmith.net/db-backup.dat.gz", {
        date: "Tue, 27 Mar 2007 21:06:08 +0000",
        "x-amz-acl": "public-read",
        "content-type": "application/x-download",
        "content-md5": "4gJE4saaMU4BqNR0kLY+lw==",
        "x-amz-meta-reviewedby": ["joe@johnsmith.net", "jane@johnsmith.net"],
        "x-amz-meta-filechecksum": "0x02661779",
        "x-amz-meta-checksumalgorithm": "crc32",
        "content-disposition": "attachment; filename=database.dat",
        "content-encoding": "gzip",
        authorization: authorization("ilyl83RwaSoYIEdixDQcA4OnAnc="),
      }),
    ],
    [
      "a presigned URL (query-string authentication)",
      view(
        "GET",
        "/johnsmith/photos/puppy.jpg",
        {},
        `AWSAccessKeyId=${ACCESS_KEY}&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D`,
      ),
    ],
  ];

  it.each(examples)("%s", async (_, request) => {
    expect(await check(request)).toBe("ok");
  });

  it.each(examples)("%s, changed after signing, is refused", async (_, request) => {
    const tampered = { ...request, method: request.method === "GET" ? "HEAD" : "POST" };
    expect(await check(tampered)).toBe("SignatureDoesNotMatch");
    const otherKey = { ...request, rawPath: `${request.rawPath}x`, resourcePath: `${request.resourcePath}x` };
    expect(await check(otherKey)).toBe("SignatureDoesNotMatch");
  });

  it("signs the amz headers: one added or changed after signing is refused", async () => {
    const [, put] = examples[5]!;
    expect(await check({ ...put, headers: { ...put.headers, "x-amz-meta-extra": "1" } })).toBe("SignatureDoesNotMatch");
    expect(await check({ ...put, headers: { ...put.headers, "x-amz-acl": "private" } })).toBe("SignatureDoesNotMatch");
    // A header S3 does not sign may change.
    expect(await check({ ...put, headers: { ...put.headers, "content-encoding": "identity" } })).toBe("ok");
  });
});

describe("the kind of authentication", () => {
  const base = (headers: Record<string, string>, rawQuery = "") => view("GET", "/b/k", headers, rawQuery);

  it.each([
    ["nothing: anonymous", base({}), "anonymous"],
    ["an unknown scheme", base({ authorization: "Basic dXNlcjpwdw==" }), "InvalidArgument"],
    ["SigV2 without a date", base({ authorization: authorization("bWq2s1WEIj+Ydj0vQ697zp+IXMU=") }), "AccessDenied"],
    [
      "SigV2 with an unparsable date",
      base({ authorization: authorization("bWq2s1WEIj+Ydj0vQ697zp+IXMU="), date: "someday" }),
      "AccessDenied",
    ],
    [
      "SigV2 without a key",
      base({ authorization: "AWS :bWq2s1WEIj+Ydj0vQ697zp+IXMU=", date: "Tue, 27 Mar 2007 19:36:42 +0000" }),
      "AuthorizationHeaderMalformed",
    ],
    ["SigV2 query without Expires", base({}, `AWSAccessKeyId=${ACCESS_KEY}&Signature=abc`), "AuthorizationQueryParametersError"],
    [
      "SigV2 query with a header",
      base({ authorization: "AWS a:b" }, `AWSAccessKeyId=${ACCESS_KEY}&Signature=x&Expires=1`),
      "InvalidArgument",
    ],
    ["SigV4 query parameters without the algorithm", base({}, "X-Amz-Signature=00"), "AuthorizationQueryParametersError"],
    ["SigV2 and SigV4 query parameters", base({}, "X-Amz-Algorithm=AWS4-HMAC-SHA256&Signature=x"), "InvalidArgument"],
  ])("%s", async (_, request, expected) => {
    expect(await check(request)).toBe(expected);
  });
});
