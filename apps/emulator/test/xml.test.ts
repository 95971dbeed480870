// renderXml writes S3's answers by hand (it is on the listing's hot path); fast-xml-parser's builder, configured as
// the emulator once used it, is the oracle: the same bytes for every shape the S3 routes produce.
import { XMLBuilder } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { parseXml, renderXml, S3_NAMESPACE, type XmlNode } from "../src/storage/xml.js";

const builder = new XMLBuilder({ ignoreAttributes: false, format: false, suppressEmptyNode: false });
const oracle = (root: string, content: XmlNode) =>
  builder.build({ "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" }, [root]: { "@_xmlns": S3_NAMESPACE, ...content } }) as string;

const shapes: [string, XmlNode][] = [
  [
    "ListBucketResult",
    {
      Name: "htc-storage",
      Prefix: "projects/p/",
      Delimiter: "/",
      MaxKeys: 1000,
      IsTruncated: true,
      KeyCount: 3,
      ContinuationToken: undefined,
      NextContinuationToken: "WyJhIix0cnVlXQ",
      Contents: [
        {
          Key: "a&b<c>.txt",
          LastModified: "2026-12-04T01:00:00.000Z",
          ETag: '"d41d8cd98f00b204e9800998ecf8427e"',
          Size: 0,
          StorageClass: "STANDARD",
        },
        { Key: 'it\'s "quoted"', LastModified: "2026-12-04T01:00:00.000Z", ETag: '"abc-2"', Size: 12, StorageClass: "STANDARD" },
      ],
      CommonPrefixes: [{ Prefix: "dir/" }],
    },
  ],
  ["ListBucketResult", { Name: "b", Prefix: "", IsTruncated: false, Contents: [], CommonPrefixes: [] }],
  ["Error", { Code: "NoSuchKey", Message: "The specified key does not exist.", Key: "x y", RequestId: "r-1" }],
  ["InitiateMultipartUploadResult", { Bucket: "b", Key: "k", UploadId: "u_-1" }],
  [
    "ListAllMyBucketsResult",
    {
      Owner: { ID: "123:abc", DisplayName: "user" },
      Buckets: {
        Bucket: [
          { Name: "b1", CreationDate: "2026-01-01T00:00:00.000Z" },
          { Name: "b2", CreationDate: "2026-01-01T00:00:00.000Z" },
        ],
      },
    },
  ],
  ["DeleteResult", { Deleted: [{ Key: "k1" }, { Key: "k2" }], Error: [{ Key: "k3", Code: "AccessDenied", Message: "Access Denied" }] }],
];

describe("renderXml", () => {
  it.each(shapes)("writes %s exactly as fast-xml-parser's builder does", (root, content) => {
    expect(renderXml(root, content)).toBe(oracle(root, content));
  });

  it("escapes what XML requires, so a parser reads the same text back", () => {
    const key = `odd &amp; <key> "with" 'quotes' & spaces  `;
    const parsed = parseXml(renderXml("CopyObjectResult", { Key: key }), "CopyObjectResult");
    expect(parsed["Key"]).toBe(key);
  });

  it("leaves the namespace out when asked", () => {
    expect(renderXml("Root", { A: "1" }, false)).toBe('<?xml version="1.0" encoding="UTF-8"?><Root><A>1</A></Root>');
  });
});
