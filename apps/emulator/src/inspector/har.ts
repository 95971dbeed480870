// Recorded requests as an HTTP Archive (HAR 1.2), the format browsers' developer tools export and open. Built from
// the inspector's redacted views, so a HAR file carries no secret either.
import type { Detail, PublicBody } from "./inspector.js";

interface HarHeader {
  name: string;
  value: string;
}

function queryList(query: string): HarHeader[] {
  if (!query) return [];
  return query.split("&").map((pair) => {
    const eq = pair.indexOf("=");
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, " "));
      } catch {
        return s;
      }
    };
    return eq < 0 ? { name: decode(pair), value: "" } : { name: decode(pair.slice(0, eq)), value: decode(pair.slice(eq + 1)) };
  });
}

function headerSize(headers: HarHeader[]): number {
  return headers.reduce((n, h) => n + h.name.length + h.value.length + 4, 0);
}

function comment(body: PublicBody | null): string | undefined {
  if (!body) return undefined;
  if (body.omitted) return body.omitted;
  if (body.truncated) return `cut at ${body.text?.length ?? 0} of ${body.size} characters by the inspector`;
  return undefined;
}

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  304: "Not Modified",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: Record<string, unknown>;
  response: Record<string, unknown>;
  cache: Record<string, unknown>;
  timings: { send: number; wait: number; receive: number };
  [custom: `_${string}`]: unknown;
}

export interface HarArchive {
  log: {
    version: "1.2";
    creator: { name: string; version: string };
    pages: never[];
    entries: HarEntry[];
  };
}

/** A HAR document of `entries` (oldest first) of the emulator at `rootUrl`. */
export function toHar(entries: Detail[], rootUrl: string, version: string): HarArchive {
  return {
    log: {
      version: "1.2",
      creator: { name: "htc-emulator", version },
      pages: [],
      entries: entries.map((e): HarEntry => {
        const url = `${rootUrl}${e.path}${e.query ? `?${e.query}` : ""}`;
        const requestComment = comment(e.requestBody);
        const responseComment = comment(e.responseBody);
        const wait = e.durationMs;
        const receive = Math.max(0, (e.totalMs ?? e.durationMs) - e.durationMs);
        const contentType = e.responseHeaders.find((h) => h.name.toLowerCase() === "content-type")?.value ?? e.responseBody?.mimeType ?? "";
        return {
          startedDateTime: e.startedAt,
          time: wait + receive,
          request: {
            method: e.method,
            url,
            httpVersion: "HTTP/1.1",
            cookies: [],
            headers: e.requestHeaders,
            queryString: queryList(e.query),
            ...(e.requestBody
              ? {
                  postData: {
                    mimeType: e.requestBody.mimeType,
                    text: e.requestBody.text ?? "",
                    ...(requestComment ? { comment: requestComment } : {}),
                  },
                }
              : {}),
            headersSize: headerSize(e.requestHeaders),
            bodySize: e.requestSize,
          },
          response: {
            status: e.status,
            statusText: STATUS_TEXT[e.status] ?? "",
            httpVersion: "HTTP/1.1",
            cookies: [],
            headers: e.responseHeaders,
            content: {
              size: e.responseSize ?? -1,
              mimeType: contentType,
              ...(e.responseBody?.text !== undefined ? { text: e.responseBody.text } : {}),
              ...(responseComment ? { comment: responseComment } : {}),
            },
            redirectURL: "",
            headersSize: headerSize(e.responseHeaders),
            bodySize: e.responseSize ?? -1,
          },
          cache: {},
          timings: { send: 0, wait, receive },
          // Custom fields start with an underscore (HAR 1.2).
          _operationId: e.operationId,
          _api: e.api,
          ...(e.principal ? { _principal: e.principal } : {}),
          ...(e.violations.length ? { _violations: e.violations } : {}),
          ...(e.fault ? { _fault: e.fault } : {}),
        };
      }),
    },
  };
}
