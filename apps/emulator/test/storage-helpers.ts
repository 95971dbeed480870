// Shared pieces of the storage tests: projects and tasks through the typed client, storage tokens, S3 clients
// built from them, raw requests signed with SigV4 (for what the SDK will not send) and SigV2 (headers and
// presigned URLs, built from S3's specification), and the emulator's clock.
import { createHash, createHmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { type HtcClient, requireMember, unwrap } from "@htcemu/client";
import { S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { http } from "./helpers.js";

// The SDK warns on every Node below 22; the emulator supports Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

export interface Ids {
  projectId: string;
  taskId: string;
}

export interface Token {
  projectSharedStoragePath: string;
  storagePath: string;
  projectId: string;
  storageName: string;
  region: string;
  user: string;
  expiration: string;
  credentials: { AWS_ACCESS_KEY_ID: string; AWS_SECRET_ACCESS_KEY: string; AWS_SESSION_TOKEN: string; [name: string]: string };
  provider: string;
  endpointUrl?: string;
}

export async function newProject(client: HtcClient, regions?: string[]): Promise<string> {
  const project = await unwrap(
    client.api.POST("/htc/projects", {
      body: { projectName: "storage", projectDescription: "", ...(regions ? { regions: regions as never } : {}) },
    }),
  );
  return requireMember(project, "projectId");
}

export async function newTask(client: HtcClient, projectId: string): Promise<Ids> {
  const task = await unwrap(
    client.api.POST("/htc/projects/{projectId}/tasks", { params: { path: { projectId } }, body: { taskName: "t", taskDescription: "" } }),
  );
  return { projectId, taskId: requireMember(task, "taskId") };
}

export async function taskToken(client: HtcClient, ids: Ids): Promise<Token> {
  return (await unwrap(client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/token", { params: { path: ids } }))) as Token;
}

export async function projectToken(client: HtcClient, projectId: string): Promise<Token> {
  return (await unwrap(client.api.GET("/htc/projects/{projectId}/storage/token", { params: { path: { projectId } } }))) as Token;
}

/** The key prefix of a token's folder (`storagePath` without `s3://<bucket>/`). */
export function prefixOf(token: Token): string {
  return token.storagePath.slice(`s3://${token.storageName}/`.length);
}

export function s3For(
  token: Token,
  overrides: Partial<{ accessKeyId: string; secretAccessKey: string; sessionToken: string | undefined }> = {},
): S3Client {
  const credentials = {
    accessKeyId: token.credentials.AWS_ACCESS_KEY_ID,
    secretAccessKey: token.credentials.AWS_SECRET_ACCESS_KEY,
    sessionToken: token.credentials.AWS_SESSION_TOKEN as string | undefined,
    ...overrides,
  };
  return new S3Client({
    endpoint: token.endpointUrl!,
    region: "eu-central-1",
    forcePathStyle: true,
    maxAttempts: 1,
    credentials:
      credentials.sessionToken === undefined
        ? { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }
        : (credentials as never),
  });
}

export async function advanceClock(emulator: { rootUrl: string }, seconds: number): Promise<void> {
  const { status } = await http(`${emulator.rootUrl}/_emulator/v1/clock`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ advanceSeconds: seconds }),
  });
  if (status !== 200) throw new Error(`advancing the clock failed: ${status}`);
}

export async function emulatorNow(emulator: { rootUrl: string }): Promise<Date> {
  const { body } = await http(`${emulator.rootUrl}/_emulator/v1/clock`);
  return new Date((body as { now: string }).now);
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

export function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), "s3"), "aws4_request");
}

export interface RawRequest {
  method: string;
  /** The path exactly as it goes on the wire (already encoded), e.g. `/s3/bucket/a/../b`. */
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** A body that depends on the request's signature (aws-chunked with chunk signatures). */
  bodyFromSignature?: (signing: { signature: string; key: Buffer; scope: string; longDate: string }) => Buffer;
  /** x-amz-content-sha256; defaults to the body's hash. */
  payloadHash?: string;
  sessionToken?: string | null;
  secret?: string;
  date?: Date;
}

/**
 * A request signed with AWS Signature V4 in the Authorization header, computed here from the specification with
 * node's crypto (independently of the emulator's verifier), sent with node's fetch.
 */
export async function signedRequest(
  token: Token,
  request: RawRequest,
): Promise<Exchange & { longDate: string; signature: string; key: Buffer; scope: string }> {
  const endpoint = new URL(token.endpointUrl!);
  const date = request.date ?? new Date();
  const longDate = date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const shortDate = longDate.slice(0, 8);
  const region = "us-east-1";
  const body = request.body ?? "";
  const payloadHash = request.payloadHash ?? sha256(body);
  const sessionToken = request.sessionToken === undefined ? token.credentials.AWS_SESSION_TOKEN : request.sessionToken;
  const headers: Record<string, string> = {
    host: endpoint.host,
    "x-amz-date": longDate,
    "x-amz-content-sha256": payloadHash,
    ...(sessionToken ? { "x-amz-security-token": sessionToken } : {}),
    ...Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  const names = Object.keys(headers).sort();
  const query = (request.query ?? "")
    .split("&")
    .filter(Boolean)
    .map((p) => (p.includes("=") ? p : `${p}=`))
    .sort()
    .join("&");
  const canonical = [
    request.method,
    request.path,
    query,
    ...names.map((n) => `${n}:${headers[n]!.trim()}`),
    "",
    names.join(";"),
    payloadHash,
  ].join("\n");
  const scope = `${shortDate}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", longDate, scope, sha256(canonical)].join("\n");
  const key = signingKey(request.secret ?? token.credentials.AWS_SECRET_ACCESS_KEY, shortDate, region);
  const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
  const authorization = `AWS4-HMAC-SHA256 Credential=${token.credentials.AWS_ACCESS_KEY_ID}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  const payload = request.bodyFromSignature ? request.bodyFromSignature({ signature, key, scope, longDate }) : body;
  const response = await send(
    endpoint,
    request.method,
    `${request.path}${request.query ? `?${request.query}` : ""}`,
    { ...headers, authorization },
    payload,
  );
  return { ...response, longDate, signature, key, scope };
}

export interface Exchange {
  status: number;
  text: string;
  headers: Headers;
}

/** One request with node:http (not fetch: fetch would normalise `..` segments away before they reach the emulator). */
export function send(
  endpoint: URL,
  method: string,
  pathAndQuery: string,
  headers: Record<string, string>,
  body: Buffer | string = "",
): Promise<Exchange> {
  const bodyless = method === "GET" || method === "HEAD";
  return new Promise<Exchange>((resolve, reject) => {
    const req = httpRequest(
      {
        host: endpoint.hostname,
        port: endpoint.port,
        method,
        path: pathAndQuery,
        headers: { ...headers, ...(bodyless ? {} : { "content-length": String(Buffer.byteLength(body)) }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h.set(k, v);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), headers: h });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(bodyless ? undefined : body);
  });
}

// --- Signature Version 2, computed here from S3's specification (independently of the emulator's verifier) ---

/** The sub-resources these tests use; S3 signs them as part of the resource. */
const V2_SUB_RESOURCES = new Set(["delete", "partNumber", "response-content-disposition", "response-content-type", "uploadId", "uploads"]);

/** S3's resource of a path: `/bucket/key`, after the endpoint's own path (`/s3`). */
function resourceOf(endpoint: URL, path: string): string {
  return path.slice(endpoint.pathname.replace(/\/$/, "").length);
}

/** The SigV2 string to sign of a request (`dateLine`: the Date header, or Expires for a presigned URL). */
export function sigV2StringToSign(
  method: string,
  resourcePath: string,
  query: string,
  headers: Record<string, string>,
  dateLine: string,
): string {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  const amz = Object.keys(lower)
    .filter((name) => name.startsWith("x-amz-"))
    .sort()
    .map((name) => `${name}:${lower[name]}\n`)
    .join("");
  const subResources = query
    .split("&")
    .filter((pair) => V2_SUB_RESOURCES.has(pair.split("=")[0]!))
    .map((pair) => (pair.includes("=") ? `${pair.split("=")[0]}=${decodeURIComponent(pair.slice(pair.indexOf("=") + 1))}` : pair))
    .sort();
  const resource = subResources.length ? `${resourcePath}?${subResources.join("&")}` : resourcePath;
  return `${method}\n${lower["content-md5"] ?? ""}\n${lower["content-type"] ?? ""}\n${dateLine}\n${amz}${resource}`;
}

export function sigV2Signature(secret: string, stringToSign: string): string {
  return createHmac("sha1", secret).update(stringToSign, "utf8").digest("base64");
}

export interface V2Request {
  method: string;
  /** Encoded path, e.g. `/s3/bucket/key`. */
  path: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Sign with another secret. */
  secret?: string;
  /** null: send no session token. */
  sessionToken?: string | null;
  /** null: send neither Date nor x-amz-date. */
  date?: Date | null;
  /** Sign this path instead of the one sent (a tampered request). */
  signedPath?: string;
  /** Sign this query instead of the one sent. */
  signedQuery?: string;
  /** Sign the whole path (`/s3/bucket/key`) rather than S3's resource (`/bucket/key`), as some signers do. */
  signWholePath?: boolean;
  /** Send this Authorization header instead. */
  authorization?: string;
}

/** A request signed with SigV2 in the Authorization header (`AWS key:signature`). */
export async function sigV2Request(token: Token, request: V2Request): Promise<Exchange> {
  const endpoint = new URL(token.endpointUrl!);
  const sessionToken = request.sessionToken === undefined ? token.credentials.AWS_SESSION_TOKEN : request.sessionToken;
  const headers: Record<string, string> = {
    ...(request.date === null ? {} : { date: (request.date ?? new Date()).toUTCString() }),
    ...(sessionToken ? { "x-amz-security-token": sessionToken } : {}),
    ...request.headers,
  };
  const dateLine = headers["x-amz-date"] !== undefined ? "" : (headers["date"] ?? "");
  const query = request.query ?? "";
  const signedPath = request.signedPath ?? request.path;
  const resource = request.signWholePath ? signedPath : resourceOf(endpoint, signedPath);
  const stringToSign = sigV2StringToSign(request.method, resource, request.signedQuery ?? query, headers, dateLine);
  const authorization =
    request.authorization ??
    `AWS ${token.credentials.AWS_ACCESS_KEY_ID}:${sigV2Signature(request.secret ?? token.credentials.AWS_SECRET_ACCESS_KEY, stringToSign)}`;
  return send(endpoint, request.method, `${request.path}${query ? `?${query}` : ""}`, { ...headers, authorization }, request.body);
}

/** A SigV2 presigned URL (`AWSAccessKeyId`, `Expires`, `Signature`, `x-amz-security-token`), as boto3 builds them. */
export function sigV2Url(
  token: Token,
  input: { method: string; path: string; expires: number; query?: string; sessionToken?: string | null; secret?: string },
): string {
  const endpoint = new URL(token.endpointUrl!);
  const sessionToken = input.sessionToken === undefined ? token.credentials.AWS_SESSION_TOKEN : input.sessionToken;
  const amz: Record<string, string> = sessionToken ? { "x-amz-security-token": sessionToken } : {};
  const stringToSign = sigV2StringToSign(input.method, resourceOf(endpoint, input.path), input.query ?? "", amz, String(input.expires));
  const signature = sigV2Signature(input.secret ?? token.credentials.AWS_SECRET_ACCESS_KEY, stringToSign);
  const auth = new URLSearchParams({
    AWSAccessKeyId: token.credentials.AWS_ACCESS_KEY_ID,
    Signature: signature,
    Expires: String(input.expires),
    ...amz,
  });
  return `${endpoint.origin}${input.path}?${input.query ? `${input.query}&` : ""}${auth.toString()}`;
}

export const md5 = (data: string | Buffer) => createHash("md5").update(data).digest("hex");

/** The S3 error an SDK call fails with: its code and HTTP status. */
export async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof S3ServiceException) return { code: error.name, status: error.$metadata.httpStatusCode };
    throw error;
  }
  throw new Error("the call succeeded");
}

/** The `<Code>` of an S3 XML error body. */
export function errorCode(xml: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];
}

/** An S3 XML error body's code and message (undefined when the body is not S3's error shape). */
export function s3Error(xml: string): { code: string; message: string } | undefined {
  const m = /^<\?xml[^>]*\?><Error><Code>([^<]+)<\/Code><Message>([^<]*)<\/Message>.*<RequestId>[0-9A-F]+<\/RequestId><\/Error>$/s.exec(
    xml,
  );
  const decodeEntities = (text: string) =>
    text.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e]!);
  return m ? { code: m[1]!, message: decodeEntities(m[2]!) } : undefined;
}
