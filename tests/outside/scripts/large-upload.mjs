// A large upload as a user makes one: through a presigned URL, a body over the 1 MiB from which the emulator hashes
// in a worker thread (storage/hash-pool.ts). Against HTC_BASE_URL (the `htc-emulator` command's bundle) or, without
// it, an emulator started here (the library's build). Prints what it saw as one line of JSON.
import { createHash, randomBytes } from "node:crypto";
import { createHtcClient, unwrap } from "@htcemu/client";
import { startEmulator } from "@htcemu/emulator";

const target = process.env.HTC_BASE_URL;
const emulator = target ? undefined : await startEmulator({ executor: "simulated" });
try {
  const htc = createHtcClient({ baseUrl: target ?? emulator.baseUrl, apiKey: process.env.RESCALE_API_KEY ?? emulator.apiKey });
  const project = await unwrap(htc.api.POST("/htc/projects", { body: { projectName: "large-upload", projectDescription: "" } }));
  const presigned = (method) =>
    unwrap(
      htc.api.GET("/htc/projects/{projectId}/storage/presigned-url", {
        params: { path: { projectId: project.projectId }, query: { filePath: "large.bin", method } },
      }),
    );
  const body = randomBytes(3 * 1024 * 1024 + 7);
  const put = await fetch((await presigned("PUT")).url, { method: "PUT", body });
  if (!put.ok) throw new Error(`PUT answered ${put.status}: ${await put.text()}`);
  const got = await fetch((await presigned("GET")).url);
  if (!got.ok) throw new Error(`GET answered ${got.status}: ${await got.text()}`);
  const bytes = Buffer.from(await got.arrayBuffer());
  console.log(
    JSON.stringify({
      etag: put.headers.get("etag") === `"${createHash("md5").update(body).digest("hex")}"`,
      bytes: bytes.equals(body),
      // Only visible in process: how many hashing threads the upload started.
      threads: emulator?.internals.core.storage.hashes.running ?? null,
    }),
  );
} finally {
  await emulator?.stop();
}
