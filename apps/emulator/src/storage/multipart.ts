// Multipart uploads: CreateMultipartUpload, UploadPart (streamed like PutObject), UploadPartCopy (a byte range of
// another object), CompleteMultipartUpload (the parts' rules are StorageService's), AbortMultipartUpload and
// ListParts. The upload is always looked up for this bucket and key, so an upload id never reaches another object.
import { planBody } from "./body.js";
import { writePrecondition } from "./conditional.js";
import { s3Errors } from "./errors.js";
import { copySourceRow } from "./objects.js";
import { parseCopySourceRange } from "./ranges.js";
import { encodeKey } from "./request-view.js";
import { bodyStream, empty, header, one, readXmlBody, requestMeta, type S3Request, xml } from "./s3-request.js";
import { MAX_PARTS } from "./service.js";
import { textOf, xmlTime } from "./xml.js";

export function createUpload(r: S3Request, bucket: string, key: string): Response {
  const uploadId = r.storage.createUpload(bucket, key, requestMeta(r));
  return xml(r, "InitiateMultipartUploadResult", { Bucket: bucket, Key: key, UploadId: uploadId });
}

function parsePartNumber(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_PARTS) {
    throw s3Errors.invalidArgument(`Part number must be an integer between 1 and ${MAX_PARTS}, inclusive`, "partNumber", text);
  }
  return Number(text);
}

/** UploadPart, or UploadPartCopy when `x-amz-copy-source` names the part's bytes. */
export async function uploadPart(
  r: S3Request,
  bucket: string,
  key: string,
  uploadId: string,
  partText: string,
  copySource: string | undefined,
): Promise<Response> {
  const partNumber = parsePartNumber(partText);
  const upload = r.storage.upload(bucket, key, uploadId);
  if (copySource !== undefined) {
    const source = copySourceRow(r, copySource);
    const { start, end } = parseCopySourceRange(header(r, "x-amz-copy-source-range"), source.size);
    const part = await r.storage.uploadPartCopy(upload, partNumber, source, start, end);
    return xml(r, "CopyPartResult", { LastModified: xmlTime(part.last_modified), ETag: part.etag });
  }
  const plan = planBody(r.view, r.access.auth, r.access.secretAccessKey, r.storage.hashes);
  const part = await r.storage.uploadPart(upload, partNumber, bodyStream(r), plan);
  return empty(r, 200, { ETag: part.etag });
}

export async function completeUpload(r: S3Request, bucket: string, key: string, uploadId: string): Promise<Response> {
  const precondition = writePrecondition((name) => header(r, name), key);
  const upload = r.storage.upload(bucket, key, uploadId);
  const body = await readXmlBody(r, "CompleteMultipartUpload");
  const parts = (Array.isArray(body["Part"]) ? (body["Part"] as unknown[]) : []).map((p) => {
    const number = textOf(p, "PartNumber", true);
    const etag = textOf(p, "ETag", true);
    if (number === undefined || etag === undefined || !/^\d+$/.test(number)) throw s3Errors.malformedXml();
    return { partNumber: Number(number), etag };
  });
  const row = r.storage.completeUpload(upload, parts, precondition);
  const location = `${r.endpointUrl()}/${bucket}/${encodeKey(key)}`;
  return xml(r, "CompleteMultipartUploadResult", { Location: location, Bucket: bucket, Key: key, ETag: row.etag });
}

export function abortUpload(r: S3Request, bucket: string, key: string, uploadId: string): Response {
  r.storage.abortUpload(r.storage.upload(bucket, key, uploadId));
  return empty(r, 204);
}

export function listParts(r: S3Request, bucket: string, key: string, uploadId: string): Response {
  const upload = r.storage.upload(bucket, key, uploadId);
  const markerText = one(r.query, "part-number-marker") ?? "0";
  const maxText = one(r.query, "max-parts") ?? "1000";
  if (!/^\d+$/.test(markerText)) throw s3Errors.invalidArgument("Invalid part-number-marker", "part-number-marker", markerText);
  if (!/^\d+$/.test(maxText)) throw s3Errors.invalidArgument("Invalid max-parts", "max-parts", maxText);
  const maxParts = Math.min(Number(maxText), 1000);
  const { parts, truncated } = r.storage.listParts(upload, Number(markerText), maxParts);
  return xml(r, "ListPartsResult", {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    PartNumberMarker: Number(markerText),
    ...(parts.length ? { NextPartNumberMarker: parts[parts.length - 1]!.part_number } : {}),
    MaxParts: maxParts,
    IsTruncated: truncated,
    StorageClass: "STANDARD",
    Part: parts.map((p) => ({ PartNumber: p.part_number, LastModified: xmlTime(p.last_modified), ETag: p.etag, Size: p.size })),
  });
}
