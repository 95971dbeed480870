// One proxied exchange as the drift recorder receives it from forwarding: what was asked, how it ended, and
// copies of both bodies. Plain data, so the recorder can be tested without a network.
import type { IncomingHttpHeaders } from "node:http";

/** A copy of a streamed body, kept up to a limit. */
export interface CapturedBody {
  /** More bytes went through than were kept: the body cannot be validated. */
  readonly truncated: boolean;
  bytes(): Buffer;
}

export interface Exchange {
  /** Upper case. */
  readonly method: string;
  /** The request target as received: path and query. */
  readonly rawUrl: string;
  readonly at: Date;
  /**
   * `answered`: the target's whole answer reached the client; `aborted`: either side broke off;
   * `upstream-error`: the target did not answer and the proxy answered 502 or 504 itself.
   */
  readonly outcome: "answered" | "aborted" | "upstream-error";
  readonly status?: number;
  readonly requestHeaders: IncomingHttpHeaders;
  readonly requestBody: CapturedBody;
  readonly responseHeaders?: IncomingHttpHeaders;
  readonly responseBody: CapturedBody;
}
