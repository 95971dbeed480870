// Media types as the contract compares them: without parameters, lower case, with `type/*` ranges.

/** `Text/Plain; charset=utf-8` → `text/plain`. */
export function normalizeMediaType(value: string): string {
  return value.split(";")[0]!.trim().toLowerCase();
}

/** Finds the declared media type a Content-Type falls under, ignoring parameters; honours `type/*` and `*\/*`. */
export function findMediaType(declared: readonly string[], contentType: string): string | undefined {
  const actual = normalizeMediaType(contentType);
  if (declared.includes(actual)) return actual;
  const [type] = actual.split("/");
  return declared.find((d) => d === `${type}/*`) ?? declared.find((d) => d === "*/*");
}

export function isJsonMediaType(contentType: string): boolean {
  const media = normalizeMediaType(contentType);
  return media === "application/json" || media.endsWith("+json");
}
