// Saving a file from the dashboard: the browser's own download of a link, started by the code.

/** Downloads `href` as `name` (a presigned URL, or an object URL made of a fetched answer). */
export function saveLink(href: string, name: string): void {
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

/**
 * Saves a fetched answer as a file, named by its Content-Disposition or by `fallback`. The object URL is revoked a
 * little later: the browser reads it after click() returns.
 */
export async function saveAnswer(response: Response, fallback: string): Promise<void> {
  const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1] ?? fallback;
  const url = URL.createObjectURL(await response.blob());
  saveLink(url, name);
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
