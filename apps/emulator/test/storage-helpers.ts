// Shared pieces of the storage tests: projects and tasks through the typed client, storage tokens, S3 clients
// built from them, raw SigV4-signed requests (for what the SDK will not send) and the emulator's clock.
import { createHash, createHmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { type HtcClient, unwrap } from "@htcemu/client";
import { S3Client } from "@aws-sdk/client-s3";
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
  return project.projectId;
}

export async function newTask(client: HtcClient, projectId: string): Promise<Ids> {
  const task = await unwrap(
    client.api.POST("/htc/projects/{projectId}/tasks", { params: { path: { projectId } }, body: { taskName: "t", taskDescription: "" } }),
  );
  return { projectId, taskId: task.taskId };
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

export function s3For(token: Token, overrides: Partial<{ accessKeyId: string; secretAccessKey: string; sessionToken: string | undefined }> = {}): S3Client {
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
    credentials: credentials.sessionToken === undefined ? { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey } : (credentials as never),
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
export async function signedRequest(token: Token, request: RawRequest): Promise<{ status: number; text: string; headers: Headers; longDate: string; signature: string; key: Buffer; scope: string }> {
  const endpoint = new URL(token.endpointUrl!);
  const date = request.date ?? new Date();
  const longDate = date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
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
  const canonical = [request.method, request.path, query, ...names.map((n) => `${n}:${headers[n]!.trim()}`), "", names.join(";"), payloadHash].join("\n");
  const scope = `${shortDate}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", longDate, scope, sha256(canonical)].join("\n");
  const key = signingKey(request.secret ?? token.credentials.AWS_SECRET_ACCESS_KEY, shortDate, region);
  const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
  const authorization = `AWS4-HMAC-SHA256 Credential=${token.credentials.AWS_ACCESS_KEY_ID}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  const payload = request.bodyFromSignature ? request.bodyFromSignature({ signature, key, scope, longDate }) : body;
  // node:http, not fetch: fetch would normalise `..` segments away before they reach the emulator.
  const response = await new Promise<{ status: number; text: string; headers: Headers }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: endpoint.hostname,
        port: endpoint.port,
        method: request.method,
        path: `${request.path}${request.query ? `?${request.query}` : ""}`,
        headers: { ...headers, authorization, ...(request.method === "GET" || request.method === "HEAD" ? {} : { "content-length": String(Buffer.byteLength(payload)) }) },
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
    req.end(request.method === "GET" || request.method === "HEAD" ? undefined : payload);
  });
  return { ...response, longDate, signature, key, scope };
}

/** The `<Code>` of an S3 XML error body. */
export function errorCode(xml: string): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];
}
