// Batch submission without a server: the checks beyond the schema (each naming the offending member) and what
// one submission stores.
import { afterEach, describe, expect, it } from "vitest";
import type { ApiError } from "../../src/errors.js";
import type { ImageCatalog } from "../../src/jobs/images.js";
import { JobStatus } from "../../src/jobs/status.js";
import { checkBatches, type SubmitRequest } from "../../src/jobs/submit.js";
import { submitRequestSchema } from "../../src/schemas/jobs.js";
import { type JobSide, jobSide, request } from "./harness.js";

let side: JobSide;

afterEach(async () => {
  await side?.close();
});

const parse = (batches: Partial<SubmitRequest>[]) => batches.map((b) => submitRequestSchema.parse(b));

/** The field and message of the 400 a check throws. */
async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as ApiError | undefined;
  expect(error?.status).toBe(400);
  return (error!.body as { errorDescription: string }).errorDescription;
}

describe("checkBatches", () => {
  const images: ImageCatalog = {
    state: async (_project, image) => (image.startsWith("pending/") ? "pending" : image.startsWith("missing/") ? "missing" : "ready"),
    resolve: async (_project, image) => ({ image }),
  };

  it("names the first member that breaks a rule", async () => {
    side = await jobSide({ images });
    const project = side.project(["AWS_US_WEST_2", "GCP_US_CENTRAL_1"]);
    const task = side.task(project);
    const check = (batches: Partial<SubmitRequest>[]) => refusal(checkBatches(side.s, project, task, parse(batches)));
    expect(await check([request(), request({ regions: ["AWS_US_WEST_2", "AWS_EU_NORTH_1"] })])).toMatch(
      /^\[1\]\.regions\[1\]: region AWS_EU_NORTH_1 is not one of the project's regions/,
    );
    expect(await check([request({ region: "AWS_EU_NORTH_1" })])).toMatch(/^\[0\]\.region: /);
    expect(await check([request({ regions: ["AWS_US_WEST_2"], cloudProvider: "GCP" })])).toMatch(
      /^\[0\]\.cloudProvider: GCP does not match region AWS_US_WEST_2/,
    );
    expect(await check([request({ cloudProvider: "AZURE" })])).toMatch(/^\[0\]\.cloudProvider: the project has no AZURE region/);
    expect(await check([request({ htcJobDefinition: { imageName: "htcemu/shell:1", architecture: "A100" } })])).toMatch(
      /^\[0\]\.htcJobDefinition\.architecture: no eligible region supports A100/,
    );
    expect(await check([request({ htcJobDefinition: { imageName: "pending/x" } })])).toMatch(
      /^\[0\]\.htcJobDefinition\.imageName: image pending\/x:latest is still PENDING/,
    );
    expect(await check([request({ htcJobDefinition: { imageName: "missing/x:2" } })])).toMatch(
      /^\[0\]\.htcJobDefinition\.imageName: image missing\/x:2 is not available/,
    );
  });

  it("refuses jobs for a task that is not ACTIVE", async () => {
    side = await jobSide();
    const project = side.project();
    const task = { ...side.task(project), lifecycle_status: "ARCHIVED" as const };
    expect(await refusal(checkBatches(side.s, project, task, parse([request()])))).toMatch(
      /^taskId: task .* is ARCHIVED and accepts no jobs until it is reactivated/,
    );
  });

  it("narrows the eligible regions by provider and architecture", async () => {
    side = await jobSide();
    const project = side.project(["AWS_US_WEST_2", "GCP_US_CENTRAL_1"]);
    const task = side.task(project);
    const [gcp, all] = await checkBatches(side.s, project, task, parse([request({ cloudProvider: "GCP" }), request()]));
    expect(gcp!.regions).toEqual(["GCP_US_CENTRAL_1"]);
    expect(all!.regions).toEqual(["AWS_US_WEST_2", "GCP_US_CENTRAL_1"]);
  });
});

describe("a submission", () => {
  it("stores consecutive jobs per batch, their regions in turn, and counts them per group", async () => {
    side = await jobSide();
    const project = side.project(["AWS_US_WEST_2", "GCP_US_CENTRAL_1"]);
    const task = side.task(project);
    side.jobs.scheduler.pause();
    const [a, b] = await side.submit(
      project,
      task,
      [request({ batchSize: 3 }), request({ batchSize: 2, vcpus: 4, priority: "ON_DEMAND_ECONOMY" })],
      "g",
    );
    expect(b![0]).toBe(a![2]! + 1);
    const jobs = [...a!, ...b!].map((seq) => side.s.repos.jobs.job(seq)!);
    expect(jobs.map((j) => j.region)).toEqual(["AWS_US_WEST_2", "GCP_US_CENTRAL_1", "AWS_US_WEST_2", "AWS_US_WEST_2", "GCP_US_CENTRAL_1"]);
    expect(jobs.every((j) => j.status === JobStatus.SUBMITTED_TO_RESCALE && j.attempt === 1)).toBe(true);
    const batch = side.s.repos.jobs.batch(jobs[3]!.batch_seq)!;
    expect(batch).toMatchObject({ first_job: b![0], batch_size: 2, vcpus: 4, priority: 1, max_retries: 0 });
    const groupId = side.s.repos.jobs.findGroupId(task.seq, "g")!;
    expect(side.s.repos.jobs.countsOfGroup(groupId)).toEqual([5, 0, 0, 0, 0, 0, 0]);
    expect(side.s.repos.jobs.publicId(b![1]!)).toBe(`${batch.parent_job_id}:1`);
    expect(side.jobs.seqOf(task.seq, `${batch.parent_job_id}:1`)).toBe(b![1]);
    expect(side.jobs.seqOf(task.seq, `${batch.parent_job_id}:2`)).toBeUndefined();
  });
});
