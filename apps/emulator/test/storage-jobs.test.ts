// A job's storage, in a real container (htcemu/shell:1, busybox): the runtime injects task-folder credentials,
// the S3 endpoint as the container reaches it and the two folders; the job writes an object into its task folder
// through a presigned URL it asks the API for with its own job token (busybox has no S3 client: nc sends the PUT),
// and fetches the project's shared-folder credentials the same way. The test then uses the injected credentials
// from outside: they reach the task's folder and nothing else.
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { type HtcClient, jobId, waitForGroup } from "@htcemu/client";
import type { SpawnedEmulator } from "@htcemu/contract/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectDockerEngine } from "../src/jobs/docker-engine.js";
import { contractClient, startTestEmulator, sent } from "./helpers.js";
import { newProject, newTask, s3For, type Token } from "./storage-helpers.js";

const engine = await detectDockerEngine();
if (!engine.ok && process.env.HTC_REQUIRE_DOCKER === "1") throw new Error(`HTC_REQUIRE_DOCKER=1 but ${engine.reason}`);
const describeDocker = engine.ok ? describe : describe.skip;
if (!engine.ok) console.warn(`Docker storage tests skipped: ${engine.reason}`);

describeDocker("storage inside jobs", () => {
  let emulator: SpawnedEmulator;
  let client: HtcClient;

  beforeAll(async () => {
    emulator = await startTestEmulator(["--executor", "docker"]);
    client = contractClient(emulator, { apiKey: emulator.apiKey });
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  it("injects task credentials, the endpoint and the folders, and the job writes to its task folder", async () => {
    const projectId = await newProject(client, ["AWS_US_EAST_2"]);
    const ids = await newTask(client, projectId);
    const api = '"$RESCALE_HTC_API_URL/htc/projects/$RESCALE_HTC_PROJECT_ID';
    const auth = '--header "Authorization: Bearer $RESCALE_HTC_BEARER_TOKEN"';
    const script = [
      "set -e",
      ...[
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "TASK_SHARED_FOLDER",
        "PROJECT_SHARED_FOLDER",
      ].map((name) => `echo "${name}=$${name}"`),
      // A presigned PUT URL for out/from-job.txt in the task folder, from the API with the job token.
      `J=$(wget -qO- ${auth} ${api}/tasks/$RESCALE_HTC_TASK_ID/storage/presigned-url?filePath=out/from-job.txt")`,
      `U=$(echo "$J" | sed -e 's/.*"url":"\\([^"]*\\)".*/\\1/')`,
      `HP=\${U#http://}; HOSTPORT=\${HP%%/*}; PATHQ=/\${HP#*/}`,
      'BODY="written by $RESCALE_HTC_JOB_ID"',
      // busybox nc stops reading when its input ends: keep the input open until the answer has come.
      `(printf 'PUT %s HTTP/1.1\\r\\nHost: %s\\r\\nContent-Length: %s\\r\\nConnection: close\\r\\n\\r\\n%s' "$PATHQ" "$HOSTPORT" "\${#BODY}" "$BODY"; sleep 2) | nc "\${HOSTPORT%:*}" "\${HOSTPORT##*:}" > /tmp/put-response || echo "nc failed: $?"`,
      "sed -n -e '1s/^/PUT-STATUS /p' /tmp/put-response",
      // The project's shared-folder credentials, from the API with the job token.
      `wget -qO- ${auth} ${api}/storage/token" | sed -e 's/^/SHARED-TOKEN /'`,
      "echo",
    ].join("\n");
    const [batch] = await sent(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: ids },
        body: [
          {
            batchSize: 1,
            htcJobDefinition: { imageName: "htcemu/shell:1", maxMemory: 64, execTimeoutSeconds: 120, commands: ["sh", "-c", script] },
          },
        ],
      }),
    );
    await waitForGroup(client, { ...ids, intervalMs: 200, timeoutMs: 90_000 });
    const job = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}", {
        params: { path: { ...ids, jobId: jobId(batch!.parentJobId, 0) } },
      }),
    );
    const page = await sent(
      client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs/{jobId}/logs", {
        params: { path: { ...ids, jobId: jobId(batch!.parentJobId, 0) }, query: { sort: "asc" } },
      }),
    );
    const lines = page.items.map((l) => l.message);
    expect(job.status, lines.join("\n")).toBe("SUCCEEDED");
    const env = Object.fromEntries(
      lines.filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );

    const bucket = "htc-storage-aws-us-east-2";
    expect(env).toMatchObject({
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_ENDPOINT_URL: `${emulator.rootUrl}/s3`,
      AWS_ENDPOINT_URL_S3: `${emulator.rootUrl}/s3`,
      TASK_SHARED_FOLDER: `s3://${bucket}/projects/${projectId}/tasks/${ids.taskId}/`,
      PROJECT_SHARED_FOLDER: `s3://${bucket}/projects/${projectId}/shared/`,
    });
    expect(env["AWS_ACCESS_KEY_ID"]).toMatch(/^ASIA/);
    expect(lines.find((l) => l.startsWith("PUT-STATUS"))).toMatch(/HTTP\/1\.1 200/);

    // The injected credentials, used from outside the container: the task folder, and nothing else.
    const injected: Token = {
      projectSharedStoragePath: env["PROJECT_SHARED_FOLDER"]!,
      storagePath: env["TASK_SHARED_FOLDER"]!,
      projectId,
      storageName: bucket,
      region: "AWS_US_EAST_2",
      user: "",
      expiration: "",
      provider: "AWS",
      endpointUrl: env["AWS_ENDPOINT_URL"]!,
      credentials: {
        AWS_ACCESS_KEY_ID: env["AWS_ACCESS_KEY_ID"]!,
        AWS_SECRET_ACCESS_KEY: env["AWS_SECRET_ACCESS_KEY"]!,
        AWS_SESSION_TOKEN: env["AWS_SESSION_TOKEN"]!,
      },
    };
    const s3 = s3For(injected);
    const written = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `projects/${projectId}/tasks/${ids.taskId}/out/from-job.txt` }),
    );
    expect(await written.Body!.transformToString()).toBe(`written by ${jobId(batch!.parentJobId, 0)}`);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `projects/${projectId}/tasks/${ids.taskId}/out/more.txt`, Body: "more" }));
    await expect(s3.send(new PutObjectCommand({ Bucket: bucket, Key: `projects/${projectId}/shared/x`, Body: "x" }))).rejects.toMatchObject(
      { name: "AccessDenied" },
    );

    // The shared-folder credentials the job fetched with its token reach the shared folder.
    const sharedJson = lines.find((l) => l.startsWith("SHARED-TOKEN "))!.slice("SHARED-TOKEN ".length);
    const shared = JSON.parse(sharedJson) as Token;
    expect(shared.storagePath).toBe(`s3://${bucket}/projects/${projectId}/shared/`);
    await s3For(shared).send(
      new PutObjectCommand({ Bucket: bucket, Key: `projects/${projectId}/shared/from-job-token.txt`, Body: "shared" }),
    );
  });
});
