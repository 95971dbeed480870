// Verification of AWS Signature Version 4, for requests signed in the Authorization header and for presigned
// URLs (signature in the query string). The expected signature is computed by @smithy/signature-v4, the signer of
// the AWS SDK itself: the received request is handed to it as the client must have built it (raw path, decoded
// query, exactly the headers the client says it signed), and its result is compared with what the client sent.
// S3 specifics: the path is not normalised or encoded again (`uriEscapePath: false`), the payload hash is the
// `x-amz-content-sha256` header (UNSIGNED-PAYLOAD for presigned URLs), and any region name verifies, since the
// region is part of the credential scope the client chose.
import { createHash, createHmac, type Hash, type Hmac, timingSafeEqual } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { s3Errors } from "./errors.js";
import { encodeKey, encodeRfc3986, headerValue, type RequestView, single } from "./request-view.js";

export interface SigV4Auth {
  version: 4;
  via: "header" | "query";
  accessKeyId: string;
  sessionToken: string | undefined;
  /** `20240402T120000Z` */
  longDate: string;
  /** `20240402` as written in the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** Presigned URLs: seconds from `longDate` the URL stays valid. */
  expiresSeconds?: number;
}

export const SIGV4_ALGORITHM = "AWS4-HMAC-SHA256";
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

type Signer = InstanceType<typeof SignatureV4>;
type SignerOptions = ConstructorParameters<typeof SignatureV4>[0];
type SourceData = string | ArrayBuffer | ArrayBufferView;

/** SHA-256 and HMAC-SHA256 for the signer, from node's crypto. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.make();
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.make();
  }
  private make(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", toBuffer(this.secret));
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(new Uint8Array(data));
}

function signerFor(accessKeyId: string, secretAccessKey: string, region: string, service: string, sessionToken?: string): Signer {
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
    region,
    service,
    sha256: NodeSha256 as unknown as SignerOptions["sha256"],
    uriEscapePath: false,
    applyChecksum: false,
  });
}

/** Parses `Credential=AK/20240402/us-east-1/s3/aws4_request`'s value. */
function parseCredential(value: string, fail: (message: string) => Error) {
  const parts = value.split("/");
  if (parts.length !== 5 || parts[4] !== "aws4_request" || !/^\d{8}$/.test(parts[1]!) || !parts[0] || !parts[2] || !parts[3]) {
    throw fail(`The credential '${value}' is malformed; expected "<accessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request".`);
  }
  return { accessKeyId: parts[0], scopeDate: parts[1]!, region: parts[2], service: parts[3] };
}

const SIGNATURE = /^[0-9a-f]{64}$/;

/** `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` (the caller checked the prefix). */
export function parseSigV4Header(header: string, view: RequestView): SigV4Auth {
  const fail = (message: string) => s3Errors.authorizationMalformed(message);
  const fields: Record<string, string> = {};
  for (const part of header.slice(SIGV4_ALGORITHM.length + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const { Credential, SignedHeaders, Signature } = fields;
  if (!Credential || !SignedHeaders || !Signature)
    throw fail("The authorization header is malformed; it needs Credential, SignedHeaders and Signature.");
  if (!SIGNATURE.test(Signature))
    throw fail(`The Signature '${Signature}' is malformed; a Signature Version 4 signature is 64 lower-case hexadecimal digits.`);
  const longDate = single(view.headers["x-amz-date"]);
  if (!longDate || !/^\d{8}T\d{6}Z$/.test(longDate)) throw s3Errors.accessDenied("AWS authentication requires a valid X-Amz-Date header.");
  return {
    version: 4,
    via: "header",
    ...parseCredential(Credential, fail),
    sessionToken: single(view.headers["x-amz-security-token"]),
    longDate,
    signedHeaders: SignedHeaders.split(";"),
    signature: Signature,
  };
}

/** A presigned URL's `X-Amz-*` parameters. */
export function parseSigV4Query(query: Record<string, string | string[]>): SigV4Auth {
  const fail = (message: string) => s3Errors.authorizationQueryError(message);
  const algorithm = single(query["X-Amz-Algorithm"]);
  const credential = single(query["X-Amz-Credential"]);
  const longDate = single(query["X-Amz-Date"]);
  const signedHeaders = single(query["X-Amz-SignedHeaders"]);
  const signature = single(query["X-Amz-Signature"]);
  const expires = single(query["X-Amz-Expires"]);
  if (algorithm !== undefined && algorithm !== SIGV4_ALGORITHM) throw fail(`X-Amz-Algorithm only supports "${SIGV4_ALGORITHM}".`);
  if (!algorithm || !credential || !longDate || !signedHeaders || !signature || !expires) {
    throw fail(
      "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
    );
  }
  if (!/^\d{8}T\d{6}Z$/.test(longDate)) throw fail("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".");
  if (!/^\d+$/.test(expires) || Number(expires) > 604800 || Number(expires) < 1) {
    throw fail("X-Amz-Expires must be between 1 and 604800 seconds.");
  }
  if (!SIGNATURE.test(signature))
    throw fail(`X-Amz-Signature '${signature}' is malformed; a Signature Version 4 signature is 64 lower-case hexadecimal digits.`);
  return {
    version: 4,
    via: "query",
    ...parseCredential(credential, fail),
    sessionToken: single(query["X-Amz-Security-Token"]),
    longDate,
    signedHeaders: signedHeaders.split(";"),
    signature,
    expiresSeconds: Number(expires),
  };
}

/** `20240402T120000Z` → milliseconds. */
export function longDateMs(longDate: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(longDate)!;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Throws SignatureDoesNotMatch unless the request's signature is the one the credentials produce. */
export async function verifySigV4(
  view: RequestView,
  query: Record<string, string | string[]>,
  info: SigV4Auth,
  secretAccessKey: string,
): Promise<void> {
  const signingDate = new Date(longDateMs(info.longDate));
  const signed = new Set(info.signedHeaders);
  if (!signed.has("host")) throw s3Errors.signatureDoesNotMatch();
  const headers: Record<string, string> = {};
  for (const name of info.signedHeaders) headers[name] = headerValue(view, name);
  const request = {
    method: view.method,
    protocol: "http:",
    hostname: headerValue(view, "host"),
    path: view.rawPath,
    query: { ...query },
    headers,
  };
  const options = { signingDate, signingRegion: info.region, signingService: info.service, signableHeaders: signed };

  if (info.via === "header") {
    delete request.query["X-Amz-Signature"];
    // The session token is signed as a header when the client signed it; the signer must not add it again.
    const signer = signerFor(info.accessKeyId, secretAccessKey, info.region, info.service);
    const result = await signer.sign(request as never, options);
    const authorization = String((result as unknown as { headers: Record<string, string> }).headers["authorization"] ?? "");
    const expected = /Signature=([0-9a-f]+)/.exec(authorization)?.[1] ?? "";
    const expectedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1] ?? "";
    if (expectedHeaders !== info.signedHeaders.join(";") || !sameText(expected, info.signature)) throw s3Errors.signatureDoesNotMatch();
    return;
  }

  // Presigned: the signer rebuilds the X-Amz-* parameters from the credentials, date and expiry, so the
  // received ones are replaced by the same values; the payload is never signed in a URL.
  delete request.query["X-Amz-Signature"];
  const unsignable = new Set<string>();
  if (!signed.has("x-amz-content-sha256")) {
    headers["x-amz-content-sha256"] = UNSIGNED_PAYLOAD;
    unsignable.add("x-amz-content-sha256");
  }
  const signer = signerFor(info.accessKeyId, secretAccessKey, info.region, info.service, info.sessionToken);
  let result: { query?: Record<string, string | string[]> };
  try {
    result = (await signer.presign(request as never, {
      ...options,
      expiresIn: info.expiresSeconds,
      unsignableHeaders: unsignable,
      unhoistableHeaders: new Set(Object.keys(headers)),
    })) as { query?: Record<string, string | string[]> };
  } catch {
    throw s3Errors.signatureDoesNotMatch();
  }
  const expected = single(result.query?.["X-Amz-Signature"]) ?? "";
  const expectedHeaders = single(result.query?.["X-Amz-SignedHeaders"]) ?? "";
  if (expectedHeaders !== info.signedHeaders.join(";") || !sameText(expected, info.signature)) throw s3Errors.signatureDoesNotMatch();
}

/** Signs a presigned URL for the emulator's own `presigned-url` operations. */
export async function presignUrl(input: {
  endpointUrl: string;
  method: "GET" | "PUT";
  bucket: string;
  key: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  signingDate: Date;
  expiresSeconds: number;
}): Promise<string> {
  const endpoint = new URL(input.endpointUrl);
  const path = `${endpoint.pathname.replace(/\/+$/, "")}/${input.bucket}/${encodeKey(input.key)}`;
  const signer = signerFor(input.accessKeyId, input.secretAccessKey, SIGNING_REGION, "s3", input.sessionToken);
  const presigned = (await signer.presign(
    {
      method: input.method,
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      path,
      query: {},
      // S3 URLs never sign the payload; the header only tells the signer so and is neither signed nor sent.
      headers: { host: endpoint.host, "x-amz-content-sha256": UNSIGNED_PAYLOAD },
    } as never,
    {
      signingDate: input.signingDate,
      expiresIn: input.expiresSeconds,
      signingRegion: SIGNING_REGION,
      signingService: "s3",
      unsignableHeaders: new Set(["x-amz-content-sha256"]),
      unhoistableHeaders: new Set(["x-amz-content-sha256"]),
    },
  )) as { query: Record<string, string> };
  const search = Object.entries(presigned.query)
    .map(([name, value]) => `${encodeRfc3986(name)}=${encodeRfc3986(value)}`)
    .join("&");
  return `${endpoint.origin}${path}?${search}`;
}

/** The region the emulator signs its own URLs for; any region verifies. */
export const SIGNING_REGION = "us-east-1";

/**
 * The signatures of `aws-chunked` bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]): each chunk's signature
 * chains on the previous one, starting from the request's signature (the seed).
 */
export class ChunkSignatures {
  private previous: string;
  private readonly signer: Signer;
  private readonly scope: string;

  constructor(
    private readonly info: SigV4Auth,
    secretAccessKey: string,
  ) {
    this.previous = info.signature;
    this.signer = signerFor(info.accessKeyId, secretAccessKey, info.region, info.service);
    this.scope = `${info.scopeDate}/${info.region}/${info.service}/aws4_request`;
  }

  /** Checks the signature of the next chunk, given the SHA-256 (hex) of its data. */
  async verifyChunk(dataSha256: string, signature: string): Promise<void> {
    const stringToSign = ["AWS4-HMAC-SHA256-PAYLOAD", this.info.longDate, this.scope, this.previous, EMPTY_SHA256, dataSha256].join("\n");
    await this.check(stringToSign, signature);
  }

  /** Checks the signature of the trailing headers (`name:value\n` each). */
  async verifyTrailer(trailerText: string, signature: string): Promise<void> {
    const hashed = createHash("sha256").update(trailerText).digest("hex");
    const stringToSign = ["AWS4-HMAC-SHA256-TRAILER", this.info.longDate, this.scope, this.previous, hashed].join("\n");
    await this.check(stringToSign, signature);
  }

  private async check(stringToSign: string, signature: string): Promise<void> {
    const expected = await this.signer.sign(stringToSign, {
      signingDate: new Date(longDateMs(this.info.longDate)),
      signingRegion: this.info.region,
      signingService: this.info.service,
    });
    if (!sameText(expected, signature)) throw s3Errors.signatureDoesNotMatch();
    this.previous = signature;
  }
}
