// ETags as S3 writes them: the quoted hex MD5 of a single upload; clients send them back quoted or not, weak or not.

/** `"<hex md5>"` */
export function etagOf(md5: Buffer): string {
  return `"${md5.toString("hex")}"`;
}

/** The bare value of an ETag as a client may send it: quotes and a weak `W/` prefix removed. */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
}
