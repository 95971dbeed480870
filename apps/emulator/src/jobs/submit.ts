// Batch submission: the business rules beyond the schema (task state, regions, provider, architecture, image),
// then one transaction that stores every batch and job of the request.
import type { z } from "zod";
import type { Sent } from "../contract-types.js";
import { isoTime } from "../clock.js";
import { type Architecture, providerOf, regionInfo } from "../domain/catalog.js";
import { newUuid } from "../domain/ids.js";
import { regionsOf } from "../domain/projects.js";
import type { ProjectRow } from "../db/repositories/projects.js";
import type { TaskRow } from "../db/repositories/tasks.js";
import type { Principal } from "../domain/principal.js";
import { invalidField } from "../errors.js";
import type { submitRequestSchema } from "../schemas/jobs.js";
import type { Core } from "../core.js";
import type { ImageState } from "./images.js";
import { Priority } from "./status.js";

export type SubmitRequest = z.output<typeof submitRequestSchema>;

/** A stored batch as the submit answer echoes it: every member present, `null` where nothing was sent. */
export type SubmittedBatch = Sent<"HTCJobSubmitRequest">;

/** Defaults for members a definition leaves out. */
export const DEFAULT_VCPUS = 1;
export const DEFAULT_MEMORY_MIB = 4000;
export const DEFAULT_TIMEOUT_SECONDS = 1_209_600;

export interface AcceptedBatch {
  batchSeq: number;
  parentJobId: string;
  firstJob: number;
  size: number;
}

interface CheckedBatch {
  request: SubmitRequest;
  regions: string[];
}

export function withDefaultTag(imageName: string): string {
  return imageName.includes(":") ? imageName : `${imageName}:latest`;
}

/** Validates what the schema cannot: throws a 400 naming the first offending member. */
export async function checkBatches(s: Core, project: ProjectRow, task: TaskRow, requests: SubmitRequest[]): Promise<CheckedBatch[]> {
  if (task.lifecycle_status !== "ACTIVE") {
    throw invalidField(
      "taskId",
      `task ${task.id} is ${task.lifecycle_status} and accepts no jobs${task.lifecycle_status === "ARCHIVED" ? " until it is reactivated" : ""}`,
    );
  }
  const projectRegions = regionsOf(project);
  const imageStates = new Map<string, ImageState>();
  const checked: CheckedBatch[] = [];
  for (const [i, request] of requests.entries()) {
    const at = `[${i}]`;
    const requested = [
      ...(request.regions ?? []),
      ...(request.region && !request.regions?.includes(request.region) ? [request.region] : []),
    ];
    requested.forEach((region, j) => {
      if (!projectRegions.includes(region)) {
        const field = j < (request.regions?.length ?? 0) ? `${at}.regions[${j}]` : `${at}.region`;
        throw invalidField(field, `region ${region} is not one of the project's regions (${projectRegions.join(", ")})`);
      }
    });
    let eligible = requested.length ? requested : projectRegions;
    if (request.cloudProvider) {
      const mismatch = eligible.find((r) => providerOf(r) !== request.cloudProvider);
      if (requested.length && mismatch)
        throw invalidField(`${at}.cloudProvider`, `${request.cloudProvider} does not match region ${mismatch}`);
      eligible = eligible.filter((r) => providerOf(r) === request.cloudProvider);
      if (eligible.length === 0) throw invalidField(`${at}.cloudProvider`, `the project has no ${request.cloudProvider} region`);
    }
    const architecture = request.htcJobDefinition.architecture as Architecture | undefined;
    if (architecture) {
      eligible = eligible.filter((r) => regionInfo(r)?.supportedArchitectures.includes(architecture));
      if (eligible.length === 0) throw invalidField(`${at}.htcJobDefinition.architecture`, `no eligible region supports ${architecture}`);
    }
    const image = withDefaultTag(request.htcJobDefinition.imageName);
    let state = imageStates.get(image);
    if (state === undefined) {
      state = await s.images.state(project, image);
      imageStates.set(image, state);
    }
    if (state !== "ready") {
      throw invalidField(
        `${at}.htcJobDefinition.imageName`,
        state === "pending"
          ? `image ${image} is still PENDING in the project's registry`
          : `image ${image} is not available to the project`,
      );
    }
    checked.push({ request, regions: eligible });
  }
  return checked;
}

/** Stores the batches and their jobs (one transaction) and returns what the submit answer echoes. */
export function storeBatches(
  s: Core,
  principal: Principal,
  project: ProjectRow,
  task: TaskRow,
  group: string,
  batches: CheckedBatch[],
): { accepted: AcceptedBatch[]; echo: SubmittedBatch[] } {
  const { jobs } = s.repos;
  const now = s.clock.now();
  const accepted: AcceptedBatch[] = [];
  const echo: SubmittedBatch[] = [];
  s.db.transaction(() => {
    const groupId = jobs.groupId(task.seq, group);
    let next = jobs.nextJobSeq();
    for (const { request, regions } of batches) {
      const parentJobId = newUuid();
      const definition = request.htcJobDefinition;
      const element = echoOf(request, {
        parentJobId,
        taskId: task.id,
        projectId: project.id,
        createdBy: principal.user.id,
        workspaceId: project.workspace_id,
        group: group || null,
        rescaleTimeReceived: isoTime(now),
        jobDefinitionName: `jobdef-${parentJobId}`,
      });
      const batchSeq = jobs.insertBatch({
        parent_job_id: parentJobId,
        task_seq: task.seq,
        group_id: groupId,
        first_job: next,
        batch_size: request.batchSize,
        created_by: principal.user.id,
        received_at: now,
        vcpus: definition.maxVCpus ?? DEFAULT_VCPUS,
        priority: Priority[definition.priority ?? "ON_DEMAND_PRIORITY"],
        max_retries: request.retryStrategy?.maxRetries ?? 0,
        request: JSON.stringify(element),
      });
      for (let index = 0; index < request.batchSize; index++) {
        jobs.insertJob(next + index, batchSeq, task.seq, groupId, regions[index % regions.length]!, now);
      }
      jobs.addCount(groupId, 0, request.batchSize);
      accepted.push({ batchSeq, parentJobId, firstJob: next, size: request.batchSize });
      echo.push(element);
      next += request.batchSize;
    }
    s.repos.tasks.touch(task.id, now);
  })();
  return { accepted, echo };
}

type FilledIn = Pick<
  SubmittedBatch,
  "parentJobId" | "taskId" | "projectId" | "createdBy" | "workspaceId" | "group" | "rescaleTimeReceived" | "jobDefinitionName"
>;

/**
 * The answer's element for one batch: what was sent, every member present (`null` for what was not, as
 * production's backend serialises it; the Python client reads `group` without a default), and what the server
 * filled in.
 */
function echoOf(request: SubmitRequest, filled: FilledIn): SubmittedBatch {
  const d = request.htcJobDefinition;
  const { retryStrategy, experimental } = request;
  return {
    jobName: request.jobName ?? null,
    ...filled,
    batchSize: request.batchSize,
    regions: request.regions ?? null,
    region: request.region ?? null,
    htcJobDefinition: {
      imageName: d.imageName,
      maxVCpus: d.maxVCpus ?? null,
      maxMemory: d.maxMemory ?? null,
      maxDiskGiB: d.maxDiskGiB ?? null,
      maxSwap: d.maxSwap ?? null,
      tags: d.tags ?? null,
      commands: d.commands ?? null,
      envs: d.envs ?? null,
      claims: d.claims ?? null,
      execTimeoutSeconds: d.execTimeoutSeconds ?? null,
      architecture: d.architecture ?? null,
      priority: d.priority ?? null,
      workingDir: d.workingDir ?? null,
    },
    tags: request.tags?.map((tag) => ({ key: tag.key ?? null, value: tag.value ?? null })) ?? null,
    retryStrategy: retryStrategy ? { maxRetries: retryStrategy.maxRetries ?? null } : null,
    experimental: experimental
      ? {
          kubernetesSwap: experimental.kubernetesSwap ?? null,
          cloudFileSystems: experimental.cloudFileSystems ?? null,
          rescaleFilesRDFAgent: experimental.rescaleFilesRDFAgent ?? null,
          privilegedMode: experimental.privilegedMode ?? null,
        }
      : null,
    rescaleProjectId: request.rescaleProjectId ?? null,
    cloudProvider: request.cloudProvider ?? null,
  };
}
