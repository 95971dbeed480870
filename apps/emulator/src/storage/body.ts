// Request bodies of uploads, as streams: the `aws-chunked` decoder (the AWS SDKs' streaming uploads, with or
// without chunk signatures, with trailing checksums), and the hashing every upload gets (MD5 for the ETag, and
// whatever the client asked to be checked: Content-MD5, x-amz-content-sha256, x-amz-checksum-*): inline for small
// bodies, by the hashing threads behind the file's writes for large ones.
// Nothing here holds more than one network chunk (and a line of framing) in memory.
import { createHash, type Hash } from "node:crypto";
import { Transform, type TransformCallback } from "node:stream";
import { s3Errors } from "./errors.js";
import type { FileHasher, HashPool } from "./hash-pool.js";
import { type Algorithm, MultiHasher } from "./hashing.js";
import type { RequestView } from "./request-view.js";
import type { AuthInfo } from "./signature.js";
import { ChunkSignatures, EMPTY_SHA256 } from "./sigv4.js";

const MAX_LINE = 16 * 1024;
const CRLF = Buffer.from("\r\n");

type State = "size" | "data" | "data-end" | "trailer" | "done";

/** Decodes `Content-Encoding: aws-chunked` framing; verifies chunk signatures when a signer is given. */
export class AwsChunkedDecoder extends Transform {
  private state: State = "size";
  private line = Buffer.alloc(0);
  private remaining = 0;
  private chunkSignature: string | undefined;
  private chunkHash: Hash | undefined;
  private trailerLines: string[] = [];
  /** The trailing headers (lower-cased names), available once the stream has ended. */
  readonly trailers: Record<string, string> = {};
  decodedLength = 0;

  constructor(private readonly signatures: ChunkSignatures | undefined) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.consume(chunk).then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }

  override _flush(callback: TransformCallback): void {
    callback(this.state === "done" ? null : s3Errors.incompleteBody());
  }

  private async consume(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.state === "data") {
        const take = Math.min(this.remaining, chunk.length - offset);
        const data = chunk.subarray(offset, offset + take);
        this.chunkHash?.update(data);
        this.push(data);
        this.decodedLength += take;
        this.remaining -= take;
        offset += take;
        if (this.remaining === 0) this.state = "data-end";
        continue;
      }
      if (this.state === "done") {
        // Some clients end with an extra CRLF; anything else is garbage.
        if (chunk.subarray(offset).every((b) => b === 13 || b === 10)) return;
        throw s3Errors.invalidRequest("Unexpected bytes after the final chunk of an aws-chunked body.");
      }
      // Line-oriented states: collect up to CRLF.
      const end = chunk.indexOf(CRLF, offset);
      const carriedCr = this.line.length > 0 && this.line[this.line.length - 1] === 13 && chunk[offset] === 10;
      if (carriedCr) {
        const text = this.line.subarray(0, this.line.length - 1).toString("latin1");
        this.line = Buffer.alloc(0);
        offset += 1;
        await this.onLine(text);
        continue;
      }
      if (end < 0) {
        this.line = Buffer.concat([this.line, chunk.subarray(offset)]);
        if (this.line.length > MAX_LINE) throw s3Errors.invalidRequest("An aws-chunked framing line is too long.");
        return;
      }
      const text = Buffer.concat([this.line, chunk.subarray(offset, end)]).toString("latin1");
      this.line = Buffer.alloc(0);
      offset = end + 2;
      await this.onLine(text);
    }
  }

  private async onLine(text: string): Promise<void> {
    switch (this.state) {
      case "data-end": {
        if (text !== "") throw s3Errors.invalidRequest("A chunk of an aws-chunked body does not end with CRLF.");
        await this.endChunk();
        this.state = "size";
        return;
      }
      case "size": {
        const [sizeText, ...extensions] = text.split(";");
        if (!sizeText || !/^[0-9a-fA-F]+$/.test(sizeText.trim())) throw s3Errors.invalidRequest("An aws-chunked chunk size is malformed.");
        const size = Number.parseInt(sizeText.trim(), 16);
        this.chunkSignature = extensions
          .map((e) => e.trim())
          .find((e) => e.startsWith("chunk-signature="))
          ?.slice("chunk-signature=".length);
        if (this.signatures) {
          if (!this.chunkSignature) throw s3Errors.signatureDoesNotMatch();
          this.chunkHash = createHash("sha256");
        }
        if (size === 0) {
          await this.endChunk();
          this.state = "trailer";
        } else {
          this.remaining = size;
          this.state = "data";
        }
        return;
      }
      case "trailer": {
        if (text === "") {
          await this.endTrailer();
          this.state = "done";
          return;
        }
        this.trailerLines.push(text);
        if (this.trailerLines.length > 32) throw s3Errors.invalidRequest("Too many trailing headers.");
        return;
      }
      default:
        throw s3Errors.invalidRequest("Malformed aws-chunked body.");
    }
  }

  private async endChunk(): Promise<void> {
    if (!this.signatures) return;
    const digest = this.chunkHash ? this.chunkHash.digest("hex") : EMPTY_SHA256;
    this.chunkHash = undefined;
    await this.signatures.verifyChunk(digest, this.chunkSignature ?? "");
  }

  private async endTrailer(): Promise<void> {
    let trailerSignature: string | undefined;
    let signedText = "";
    for (const line of this.trailerLines) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw s3Errors.invalidRequest("A trailing header is malformed.");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "x-amz-trailer-signature") trailerSignature = value;
      else {
        this.trailers[name] = value;
        signedText += `${name}:${value}\n`;
      }
    }
    if (this.signatures && this.trailerLines.length > 0) {
      if (!trailerSignature) throw s3Errors.signatureDoesNotMatch();
      await this.signatures.verifyTrailer(signedText, trailerSignature);
    }
  }
}

/** Hashes the decoded bytes of a small body on their way. */
export class InlineHashing extends Transform {
  constructor(private readonly hasher: MultiHasher) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hasher.update(chunk);
    callback(null, chunk);
  }
}

/** Bodies from this size on are hashed by a worker thread reading the file behind the writes. */
const WORKER_HASHING_FROM = 1024 * 1024;

/** The checksums the emulator verifies (CRC32C and CRC64NVME are accepted without a check). */
const VERIFIED_CHECKSUMS: ReadonlySet<string> = new Set(["crc32", "sha1", "sha256"]);

const CHECKSUM_HEADERS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"] as const;

/** How an upload's body is framed and what must be checked once it has been received. */
export interface BodyPlan {
  /** The transforms between the request and the file: [decoder?, inline hashing?] (none for a plain large body). */
  transforms: Transform[];
  /** Given the temporary file, returns what to call as it is written (large bodies: a worker hashes behind). */
  observe: ((path: string) => (written: number) => void) | undefined;
  /**
   * Throws the S3 error for the first check that fails, once the body has been read completely and `size`
   * decoded bytes of it kept.
   */
  check(size: number): Promise<{ md5: Buffer; size: number }>;
  /** The upload failed: release the hashing. */
  abort(): void;
}

function header(view: RequestView, name: string): string | undefined {
  const value = view.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function planBody(
  view: RequestView,
  auth: AuthInfo | undefined,
  secretAccessKey: string | undefined,
  hashes: HashPool,
  /** Bodies read into memory (XML) are always hashed inline. */
  toFile = true,
): BodyPlan {
  const payload = header(view, "x-amz-content-sha256") ?? (auth?.via === "query" ? "UNSIGNED-PAYLOAD" : undefined);
  const encoding = (header(view, "content-encoding") ?? "").split(",").map((e) => e.trim().toLowerCase());
  const streaming = payload?.startsWith("STREAMING-") ?? false;
  const chunked = streaming || encoding.includes("aws-chunked");
  if (payload && !streaming && payload !== "UNSIGNED-PAYLOAD" && !/^[0-9a-f]{64}$/.test(payload)) {
    throw s3Errors.invalidArgument(
      "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a SHA-256 in hex.",
      "x-amz-content-sha256",
      payload,
    );
  }
  let signatures: ChunkSignatures | undefined;
  if (payload === "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" || payload === "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
    if (auth?.version !== 4 || auth.via !== "header" || !secretAccessKey) {
      throw s3Errors.invalidRequest("Signed streaming payloads need an Authorization header signed with Signature Version 4.");
    }
    signatures = new ChunkSignatures(auth, secretAccessKey);
  } else if (streaming && payload !== "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
    throw s3Errors.notImplemented(`x-amz-content-sha256: ${payload}`);
  }

  // The checksum to verify: a header, or the trailer named by x-amz-trailer.
  const trailerName = header(view, "x-amz-trailer")?.trim().toLowerCase();
  let checksumAlgorithm: string | undefined;
  let headerChecksum: string | undefined;
  for (const algorithm of CHECKSUM_HEADERS) {
    const value = header(view, `x-amz-checksum-${algorithm}`);
    if (value !== undefined) {
      checksumAlgorithm = algorithm;
      headerChecksum = value;
    }
  }
  if (trailerName?.startsWith("x-amz-checksum-")) checksumAlgorithm = trailerName.slice("x-amz-checksum-".length);

  const contentMd5 = header(view, "content-md5");
  if (contentMd5 !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(contentMd5)) throw s3Errors.invalidDigest();
  const decodedLength = header(view, "x-amz-decoded-content-length");

  const decoder = chunked ? new AwsChunkedDecoder(signatures) : undefined;
  const payloadSha256 = payload !== undefined && /^[0-9a-f]{64}$/.test(payload);
  const algorithms = new Set<Algorithm>(["md5"]);
  if (payloadSha256) algorithms.add("sha256");
  if (checksumAlgorithm && VERIFIED_CHECKSUMS.has(checksumAlgorithm)) algorithms.add(checksumAlgorithm as Algorithm);
  const expectedSize = Number(decodedLength ?? (chunked ? undefined : header(view, "content-length")));
  const inWorker = toFile && Number.isFinite(expectedSize) && expectedSize >= WORKER_HASHING_FROM;
  const inline = inWorker ? undefined : new MultiHasher([...algorithms]);
  let fileHasher: FileHasher | undefined;
  const transforms: Transform[] = [];
  if (decoder) transforms.push(decoder);
  if (inline) transforms.push(new InlineHashing(inline));
  return {
    transforms,
    observe: inWorker
      ? (path) => {
          fileHasher = hashes.fileHasher(path, [...algorithms], expectedSize);
          return (written) => fileHasher!.progress(written);
        }
      : undefined,
    abort() {
      fileHasher?.drop();
    },
    async check(size) {
      const results = fileHasher ? await fileHasher.digest(size) : inline!.digest();
      if (decodedLength !== undefined && Number(decodedLength) !== size) throw s3Errors.incompleteBody();
      if (payloadSha256 && results.sha256 !== payload) throw s3Errors.sha256Mismatch();
      const md5 = Buffer.from(results.md5!, "hex");
      if (contentMd5 !== undefined && md5.toString("base64") !== contentMd5) throw s3Errors.badDigest();
      const expected = trailerName ? decoder?.trailers[trailerName] : headerChecksum;
      const computed = checksumAlgorithm ? results[checksumAlgorithm as Algorithm] : undefined;
      if (computed !== undefined && expected !== undefined && Buffer.from(computed, "hex").toString("base64") !== expected) {
        throw s3Errors.badDigest(checksumAlgorithm!.toUpperCase());
      }
      if (trailerName && decoder && decoder.trailers[trailerName] === undefined) {
        throw s3Errors.invalidRequest(`The trailing header ${trailerName} announced by x-amz-trailer was not sent.`);
      }
      return { md5, size };
    },
  };
}
