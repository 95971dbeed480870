// Browsing storage as a user's program would: temporary credentials from the HTC API's storage token operations,
// S3 ListObjectsV2 against the emulator's S3-compatible endpoint signed with them (aws4fetch: SigV4 in the
// browser, a few kB), and presigned URLs (the HTC API's) to download and upload single files.
import { requireMember } from "@htcemu/client";
import { AwsClient } from "aws4fetch";
import { htc, ok } from "./connection.js";

export interface Scope {
  ws: string;
  projectId: string;
  /** Undefined: the project's shared folder. */
  taskId: string | undefined;
}

export interface Listing {
  /** Folders directly under the prefix (relative to the scope's folder, ending in `/`). */
  folders: string[];
  files: { path: string; size: number; lastModified: string }[];
  truncated: boolean;
}

interface Access {
  client: AwsClient;
  endpoint: string;
  bucket: string;
  /** The scope's folder, e.g. `projects/<p>/tasks/<t>/`. */
  root: string;
  expires: number;
}

const cache = new Map<string, Access>();

async function access(scope: Scope): Promise<Access> {
  const key = `${scope.projectId}/${scope.taskId ?? ""}`;
  const cached = cache.get(key);
  if (cached && cached.expires > Date.now() + 60_000) return cached;
  const client = await htc(scope.ws);
  const token = scope.taskId
    ? await ok(
        client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/token", {
          params: { path: { projectId: scope.projectId, taskId: scope.taskId } },
        }),
      )
    : await ok(client.api.GET("/htc/projects/{projectId}/storage/token", { params: { path: { projectId: scope.projectId } } }));
  const credentials = requireMember(token, "credentials", "the storage token");
  const uri = /^s3:\/\/([^/]+)\/(.*)$/.exec(token.storagePath ?? "");
  if (!uri || !token.endpointUrl) throw new Error(`The storage token names no S3 endpoint the dashboard can reach (${token.storagePath}).`);
  const made: Access = {
    client: new AwsClient({
      accessKeyId: requireMember(credentials, "AWS_ACCESS_KEY_ID", "the storage token's credentials"),
      secretAccessKey: requireMember(credentials, "AWS_SECRET_ACCESS_KEY", "the storage token's credentials"),
      ...(credentials.AWS_SESSION_TOKEN ? { sessionToken: credentials.AWS_SESSION_TOKEN } : {}),
      service: "s3",
      region: "us-east-1",
    }),
    endpoint: token.endpointUrl.replace(/\/+$/, ""),
    bucket: uri[1]!,
    root: uri[2]!,
    expires: Date.parse(requireMember(token, "expiration", "the storage token")),
  };
  cache.set(key, made);
  return made;
}

/** The folders and files directly under `prefix` (relative to the scope's folder). */
export async function list(scope: Scope, prefix: string): Promise<Listing> {
  const a = await access(scope);
  const url = new URL(`${a.endpoint}/${a.bucket}`);
  url.searchParams.set("list-type", "2");
  url.searchParams.set("prefix", a.root + prefix);
  url.searchParams.set("delimiter", "/");
  url.searchParams.set("max-keys", "1000");
  const response = await a.client.fetch(url.toString(), { headers: { "X-HTC-Emulator-Client": "dashboard" } });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`The storage refused the listing (${response.status}): ${/<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text}`);
  const xml = new DOMParser().parseFromString(text, "application/xml");
  const value = (node: Element, name: string) => node.getElementsByTagName(name)[0]?.textContent ?? "";
  return {
    folders: [...xml.getElementsByTagName("CommonPrefixes")].map((n) => value(n, "Prefix").slice(a.root.length)),
    files: [...xml.getElementsByTagName("Contents")].map((n) => ({
      path: value(n, "Key").slice(a.root.length),
      size: Number(value(n, "Size")),
      lastModified: value(n, "LastModified"),
    })),
    truncated: value(xml.documentElement, "IsTruncated") === "true",
  };
}

/** A presigned URL of the HTC API for one file of the scope. */
export async function presigned(scope: Scope, filePath: string, method: "GET" | "PUT"): Promise<string> {
  const client = await htc(scope.ws);
  const answer = scope.taskId
    ? await ok(
        client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/storage/presigned-url", {
          params: { path: { projectId: scope.projectId, taskId: scope.taskId }, query: { filePath, method } },
        }),
      )
    : await ok(
        client.api.GET("/htc/projects/{projectId}/storage/presigned-url", {
          params: { path: { projectId: scope.projectId }, query: { filePath, method } },
        }),
      );
  return requireMember(answer, "url", "the presigned URL answer");
}

/** Uploads a file through a presigned PUT URL. */
export async function upload(scope: Scope, filePath: string, file: Blob): Promise<void> {
  const url = await presigned(scope, filePath, "PUT");
  const response = await fetch(url, { method: "PUT", body: file, headers: { "X-HTC-Emulator-Client": "dashboard" } });
  if (!response.ok) throw new Error(`The storage refused the upload (${response.status}): ${await response.text()}`);
}
