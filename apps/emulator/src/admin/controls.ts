// The test controls of the admin API (openapi/admin/admin.yaml, tags Faults and Control), under /_emulator/v1:
// fault rules and their log, the scheduler's pause and stepping, reset, and snapshots. Not part of the HTC
// contract.
import { Readable } from "node:stream";
import { loadContract } from "@htcemu/contract";
import { Hono } from "hono";
import { z } from "zod";
import { outcomeOfFault } from "../faults/job-faults.js";
import { faultRuleCreateSchema } from "../faults/rules.js";
import { FaultRuleError } from "../faults/service.js";
import type { AppEnv } from "../http/env.js";
import { invalidField, invalidRequest, notFound } from "../http/errors.js";
import { jsonBody, parseWith } from "../http/validation.js";
import type { JobOutcome } from "../jobs/executor.js";
import { JobStatus, statusCode, statusNames } from "../jobs/status.js";
import { DEFAULT_MEMORY_MIB, DEFAULT_TIMEOUT_SECONDS } from "../jobs/submit.js";
import type { Services } from "../services.js";
import { resetState } from "../snapshot/reset.js";
import { exportSnapshot, importSnapshot, SnapshotError } from "../snapshot/snapshot.js";

const STEP_LIMIT = 1000;

const stepSchema = z
  .object({
    projectId: z.string().min(1),
    taskId: z.string().min(1),
    jobIds: z.array(z.string()).max(STEP_LIMIT).optional(),
    group: z.string().optional(),
    to: z.enum(["SUBMITTED_TO_PROVIDER", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED"]).optional(),
    exitCode: z.number().int().min(0).max(255).optional(),
    failure: z.enum(["timeout", "outOfMemory", "vanish"]).optional(),
  })
  .strict();

type StepRequest = z.output<typeof stepSchema>;

interface StepView {
  jobId: string;
  from: string;
  status: string;
  attempt: number;
  moved: boolean;
  reason?: string;
}

function schedulerView(s: Services) {
  return s.jobs.scheduler.state;
}

/** The outcome a stepped job ends with. */
function stepOutcome(request: StepRequest): JobOutcome {
  if (request.failure) return outcomeOfFault({ kind: request.failure });
  return { kind: "exited", exitCode: request.exitCode ?? (request.to === "FAILED" ? 1 : 0), oomKilled: false };
}

/** The jobs a step request names, in job order. */
function jobsToStep(s: Services, request: StepRequest): { seq: number; jobId: string }[] {
  const task = s.repos.tasks.get(request.taskId, request.projectId);
  if (!task) throw notFound(`Task ${request.taskId} of project ${request.projectId} does not exist.`);
  const groupId = request.group === undefined ? undefined : s.repos.jobs.findGroupId(task.seq, request.group);
  if (request.group !== undefined && groupId === undefined) return [];
  let seqs: number[];
  if (request.jobIds) {
    seqs = request.jobIds.map((jobId, i) => {
      const seq = s.jobs.seqOf(task.seq, jobId);
      if (seq === undefined) throw invalidField(`jobIds[${i}]`, "is not a job of the task");
      return seq;
    });
    if (groupId !== undefined) seqs = seqs.filter((seq) => s.repos.jobs.job(seq)?.group_id === groupId);
    seqs = [...new Set(seqs)].sort((a, b) => a - b);
  } else {
    seqs = s.repos.jobs.seqsOf(task.seq, groupId, STEP_LIMIT + 1);
    if (seqs.length > STEP_LIMIT) throw invalidField("jobIds", `is required when more than ${STEP_LIMIT} jobs match`);
  }
  return seqs.map((seq) => ({ seq, jobId: s.repos.jobs.publicId(seq)! }));
}

function stepJobs(s: Services, request: StepRequest): StepView[] {
  const scheduler = s.jobs.scheduler;
  const end = stepOutcome(request);
  const target = request.to === undefined ? undefined : statusCode(request.to)!;
  const rowOf = (seq: number) => s.repos.jobStates.place(seq)!;
  return jobsToStep(s, request).map(({ seq, jobId }) => {
    const first = rowOf(seq);
    const definition = s.jobs.batches.get(first.batch_seq).request.htcJobDefinition;
    const limits = {
      memoryMiB: definition.maxMemory ?? DEFAULT_MEMORY_MIB,
      execTimeoutSeconds: definition.execTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    };
    const view: StepView = { jobId, from: statusNames[first.status]!, status: statusNames[first.status]!, attempt: first.attempt, moved: false };
    const terminal = (status: number) => status === JobStatus.SUCCEEDED || status === JobStatus.FAILED;
    if (target !== undefined && !terminal(target) && first.status >= target) {
      view.reason = first.status === target ? `it is ${request.to} already` : `it is past ${request.to}`;
      return view;
    }
    let status = first.status;
    for (;;) {
      const before = status;
      const moved = scheduler.controls.step(seq, end, limits);
      if ("refused" in moved) {
        view.reason = moved.refused;
        break;
      }
      view.moved = true;
      status = moved.status;
      const ended = before === JobStatus.RUNNING;
      if (ended && status === JobStatus.RUNNABLE) {
        view.reason = "the job's retry strategy put it back to RUNNABLE for its next attempt";
        break;
      }
      if (target === undefined || ended || status >= target) break;
    }
    const last = rowOf(seq);
    view.status = statusNames[last.status]!;
    view.attempt = last.attempt;
    if (target !== undefined && terminal(target) && terminal(last.status) && last.status !== target && !view.reason) {
      view.reason = `the outcome made it ${view.status}`;
    }
    return view;
  });
}

export function controlRoutes(log: (line: string) => void = () => {}): Hono<AppEnv> {
  const admin = new Hono<AppEnv>();
  // Reset and import replace state wholesale: one at a time.
  let exclusive: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = exclusive.then(work, work);
    exclusive = next.catch(() => undefined);
    return next;
  };

  // --- faults ---------------------------------------------------------------------------------------------------

  admin.get("/faults", (c) => c.json(c.var.services.faults.list()));

  admin.post("/faults", async (c) => {
    const spec = await jsonBody(c, faultRuleCreateSchema);
    const operations = loadContract().operationIds;
    // A job rule is refused for naming operations at all (FaultService.add), whatever they are.
    if (spec.api) {
      spec.match.operations?.forEach((operation, i) => {
        if (!operations.includes(operation)) throw invalidField(`match.operations[${i}]`, "is not an operationId of the HTC contract");
      });
    }
    try {
      return c.json(c.var.services.faults.add(spec), 201);
    } catch (error) {
      if (error instanceof FaultRuleError) throw invalidField(error.field, error.message);
      throw error;
    }
  });

  admin.delete("/faults", (c) => c.json(c.var.services.faults.clear()));

  admin.get("/faults/log", (c) => {
    const query = parseWith(
      z.object({ ruleId: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).optional() }),
      { ruleId: c.req.query("ruleId"), limit: c.req.query("limit") },
    );
    return c.json(c.var.services.faults.injections(query));
  });

  admin.get("/faults/:ruleId", (c) => {
    const rule = c.var.services.faults.get(c.req.param("ruleId"));
    if (!rule) throw notFound(`Fault rule ${c.req.param("ruleId")} does not exist.`);
    return c.json(rule);
  });

  admin.delete("/faults/:ruleId", (c) => {
    const rule = c.var.services.faults.remove(c.req.param("ruleId"));
    if (!rule) throw notFound(`Fault rule ${c.req.param("ruleId")} does not exist.`);
    return c.json(rule);
  });

  // --- the scheduler ----------------------------------------------------------------------------------------------

  admin.get("/scheduler", (c) => c.json(schedulerView(c.var.services)));

  admin.post("/scheduler/pause", (c) => {
    c.var.services.jobs.scheduler.pause();
    log("scheduler paused (admin API)");
    return c.json(schedulerView(c.var.services));
  });

  admin.post("/scheduler/resume", (c) => {
    c.var.services.jobs.scheduler.resume();
    log("scheduler resumed (admin API)");
    return c.json(schedulerView(c.var.services));
  });

  admin.post("/jobs/step", async (c) => {
    const s = c.var.services;
    const request = await jsonBody(c, stepSchema);
    if (!s.jobs.scheduler.isPaused) {
      throw invalidRequest("SCHEDULER_NOT_PAUSED", "Pause the scheduler (POST /_emulator/v1/scheduler/pause) before stepping jobs.");
    }
    return c.json({ jobs: stepJobs(s, request) });
  });

  // --- reset and snapshots --------------------------------------------------------------------------------------

  admin.post("/reset", async (c) => {
    const s = c.var.services;
    const body = (await jsonBody(c, z.object({ workspaceId: z.string().min(1).optional() }).strict().optional())) ?? {};
    const removed = await serialized(() => resetState(s, body.workspaceId));
    log(`state reset${body.workspaceId ? ` (workspace ${body.workspaceId})` : ""}: ${JSON.stringify(removed)}`);
    return c.json(removed);
  });

  admin.get("/snapshot", async (c) => {
    const { stream, fileName } = await serialized(() => exportSnapshot(c.var.services, log));
    return new Response(Readable.toWeb(stream) as unknown as ReadableStream, {
      headers: { "content-type": "application/octet-stream", "content-disposition": `attachment; filename="${fileName}"` },
    });
  });

  admin.post("/snapshot", async (c) => {
    const s = c.var.services;
    const body = c.req.raw.body;
    if (!body) throw invalidField("(body)", "is required: a snapshot file");
    try {
      const summary = await serialized(() => importSnapshot(s, Readable.fromWeb(body as Parameters<typeof Readable.fromWeb>[0])));
      log(`snapshot imported: ${JSON.stringify(summary)}`);
      return c.json(summary);
    } catch (error) {
      if (error instanceof SnapshotError) throw invalidRequest("INVALID_SNAPSHOT", error.message);
      throw error;
    }
  });

  return admin;
}
