// Incremental hashing of an upload's bytes with every algorithm the upload needs at once: MD5 (the ETag) and the
// checksums a client asks to be verified. Used inline for small bodies (body.ts) and by the hashing threads for
// large ones (hash-thread.ts).
import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";

export type Algorithm = "md5" | "sha256" | "sha1" | "crc32";
/** Digests by algorithm, in hex (CRC32 as its 4 big-endian bytes). */
export type Digests = Partial<Record<Algorithm, string>>;

export class MultiHasher {
  private readonly hashes: Array<[Algorithm, Hash]> = [];
  private crc: number | undefined;

  constructor(algorithms: readonly Algorithm[]) {
    for (const a of algorithms) {
      if (a === "crc32") this.crc = 0;
      else this.hashes.push([a, createHash(a)]);
    }
  }

  update(data: Uint8Array): void {
    for (const [, hash] of this.hashes) hash.update(data);
    if (this.crc !== undefined) this.crc = crc32(data, this.crc);
  }

  digest(): Digests {
    const out: Digests = {};
    for (const [a, hash] of this.hashes) out[a] = hash.digest("hex");
    if (this.crc !== undefined) {
      const bytes = Buffer.alloc(4);
      bytes.writeUInt32BE(this.crc >>> 0);
      out.crc32 = bytes.toString("hex");
    }
    return out;
  }
}
