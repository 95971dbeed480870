// The test controls of the admin API (openapi/admin/admin.yaml, tags Faults and Control), under /_emulator/v1:
// fault rules and their log, the scheduler's pause and stepping, reset, and snapshots. Served through the admin
// OperationRegistry like the rest of the admin API (routes.ts).
import { Readable } from "node:stream";
import type { z } from "zod";
import type { adminComponents } from "../contract-types.js";
import type { Core } from "../core.js";
import { invalidField, invalidRequest, notFound } from "../errors.js";
import { FaultRuleError } from "../faults/injector.js";
import { outcomeOfFault } from "../faults/job-faults.js";
import { faultRuleCreateSchema } from "../faults/rules.js";
import { contractOf } from "../http/contracts.js";
import type { AdminApi } from "../http/router.js";
import type { JobOutcome } from "../jobs/executor.js";
import type { JobService } from "../jobs/service.js";
import { JobStatus, statusCode, statusNames } from "../jobs/status.js";
import { DEFAULT_MEMORY_MIB, DEFAULT_TIMEOUT_SECONDS } from "../jobs/submit.js";
import { faultLogQuery, resetBody, STEP_LIMIT, stepBody } from "../schemas/admin.js";
import { resetState } from "../snapshot/reset.js";
import { exportSnapshot, importSnapshot, SnapshotError } from "../snapshot/snapshot.js";

type StepRequest = z.output<typeof stepBody>;
type StepView = adminComponents["schemas"]["StepResult"]["jobs"][number];

/** The fault rules' own operations: a rule may not name them, or it could lock a test out of removing it. */
const FAULT_CONTROL_OPERATIONS = new Set([
  "listFaultRules",
  "addFaultRule",
  "clearFaultRules",
  "getFaultLog",
  "getFaultRule",
  "removeFaultRule",
]);

/** The outcome a stepped job ends with. */
function stepOutcome(request: StepRequest): JobOutcome {
  if (request.failure) return outcomeOfFault({ kind: request.failure });
  return { kind: "exited", exitCode: request.exitCode ?? (request.to === "FAILED" ? 1 : 0), oomKilled: false };
}

/** The jobs a step request names, in job order. */
function jobsToStep(s: Core, jobs: JobService, request: StepRequest): { seq: number; jobId: string }[] {
  const task = s.repos.tasks.get(request.taskId, request.projectId);
  if (!task) throw notFound(`Task ${request.taskId} of project ${request.projectId} does not exist.`);
  const groupId = request.group === undefined ? undefined : s.repos.jobs.findGroupId(task.seq, request.group);
  if (request.group !== undefined && groupId === undefined) return [];
  let seqs: number[];
  if (request.jobIds) {
    seqs = request.jobIds.map((jobId, i) => {
      const seq = jobs.seqOf(task.seq, jobId);
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

function stepJobs(s: Core, jobs: JobService, request: StepRequest): StepView[] {
  const scheduler = jobs.scheduler;
  const end = stepOutcome(request);
  const target = request.to === undefined ? undefined : statusCode(request.to)!;
  const rowOf = (seq: number) => s.repos.jobStates.place(seq)!;
  return jobsToStep(s, jobs, request).map(({ seq, jobId }) => {
    const first = rowOf(seq);
    const definition = jobs.batches.get(first.batch_seq).request.htcJobDefinition;
    const limits = {
      memoryMiB: definition.maxMemory ?? DEFAULT_MEMORY_MIB,
      execTimeoutSeconds: definition.execTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    };
    const view: StepView = {
      jobId,
      from: statusNames[first.status]!,
      status: statusNames[first.status]!,
      attempt: first.attempt,
      moved: false,
    };
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

export function registerControlRoutes(api: AdminApi, log: (line: string) => void = () => {}): void {
  // Reset and import replace state wholesale: one at a time.
  let exclusive: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = exclusive.then(work, work);
    exclusive = next.catch(() => undefined);
    return next;
  };

  // --- faults ---------------------------------------------------------------------------------------------------

  api.add({
    operationId: "listFaultRules",
    method: "GET",
    path: "/faults",
    auth: "none",
    handler: (c) => c.get("faults").list(),
  });

  api.add({
    operationId: "addFaultRule",
    method: "POST",
    path: "/faults",
    status: 201,
    auth: "none",
    body: faultRuleCreateSchema,
    handler: (c, { body: spec }) => {
      // A job rule is refused for naming operations at all (FaultInjector.add), whatever they are.
      if (spec.api) {
        const htc = contractOf("htc");
        const admin = contractOf("admin");
        spec.match.operations?.forEach((operation, i) => {
          const field = `match.operations[${i}]`;
          if (FAULT_CONTROL_OPERATIONS.has(operation))
            throw invalidField(field, "is an operation of the fault rules themselves, which faults never hit");
          if (!htc.findOperation(operation) && !admin.findOperation(operation)) {
            throw invalidField(field, "is not an operationId of the HTC contract or of the admin API");
          }
        });
      }
      try {
        return c.get("faults").add(spec);
      } catch (error) {
        if (error instanceof FaultRuleError) throw invalidField(error.field, error.message);
        throw error;
      }
    },
  });

  api.add({
    operationId: "clearFaultRules",
    method: "DELETE",
    path: "/faults",
    auth: "none",
    handler: (c) => c.get("faults").clear(),
  });

  api.add({
    operationId: "getFaultLog",
    method: "GET",
    path: "/faults/log",
    auth: "none",
    query: faultLogQuery,
    handler: (c, { query }) => c.get("faults").injections(query),
  });

  api.add({
    operationId: "getFaultRule",
    method: "GET",
    path: "/faults/{ruleId}",
    auth: "none",
    handler: (c) => {
      const rule = c.get("faults").get(c.req.param("ruleId")!);
      if (!rule) throw notFound(`Fault rule ${c.req.param("ruleId")} does not exist.`);
      return rule;
    },
  });

  api.add({
    operationId: "removeFaultRule",
    method: "DELETE",
    path: "/faults/{ruleId}",
    auth: "none",
    handler: (c) => {
      const rule = c.get("faults").remove(c.req.param("ruleId")!);
      if (!rule) throw notFound(`Fault rule ${c.req.param("ruleId")} does not exist.`);
      return rule;
    },
  });

  // --- the scheduler ----------------------------------------------------------------------------------------------

  api.add({
    operationId: "getSchedulerState",
    method: "GET",
    path: "/scheduler",
    auth: "none",
    handler: (c) => c.get("jobs").scheduler.state,
  });

  api.add({
    operationId: "pauseScheduler",
    method: "POST",
    path: "/scheduler/pause",
    auth: "none",
    handler: (c) => {
      const { scheduler } = c.get("jobs");
      scheduler.pause();
      log("scheduler paused (admin API)");
      return scheduler.state;
    },
  });

  api.add({
    operationId: "resumeScheduler",
    method: "POST",
    path: "/scheduler/resume",
    auth: "none",
    handler: (c) => {
      const { scheduler } = c.get("jobs");
      scheduler.resume();
      log("scheduler resumed (admin API)");
      return scheduler.state;
    },
  });

  api.add({
    operationId: "stepJobs",
    method: "POST",
    path: "/jobs/step",
    auth: "none",
    body: stepBody,
    handler: (c, { body }) => {
      const jobs = c.get("jobs");
      if (!jobs.scheduler.isPaused) {
        throw invalidRequest("SCHEDULER_NOT_PAUSED", "Pause the scheduler (POST /_emulator/v1/scheduler/pause) before stepping jobs.");
      }
      return { jobs: stepJobs(c.get("core"), jobs, body) };
    },
  });

  // --- reset and snapshots --------------------------------------------------------------------------------------

  api.add({
    operationId: "resetState",
    method: "POST",
    path: "/reset",
    auth: "none",
    body: resetBody,
    handler: async (c, { body }) => {
      const workspaceId = body?.workspaceId;
      const removed = await serialized(() => resetState(c.get("core"), c.get("jobs"), workspaceId));
      log(`state reset${workspaceId ? ` (workspace ${workspaceId})` : ""}: ${JSON.stringify(removed)}`);
      return removed;
    },
  });

  api.add({
    operationId: "exportSnapshot",
    method: "GET",
    path: "/snapshot",
    auth: "none",
    handler: async (c) => {
      const { stream, fileName } = await serialized(() => exportSnapshot(c.get("core"), log));
      return new Response(Readable.toWeb(stream) as unknown as ReadableStream, {
        headers: { "content-type": "application/octet-stream", "content-disposition": `attachment; filename="${fileName}"` },
      });
    },
  });

  api.add({
    operationId: "importSnapshot",
    method: "POST",
    path: "/snapshot",
    auth: "none",
    handler: async (c) => {
      const body = c.req.raw.body;
      if (!body) throw invalidField("(body)", "is required: a snapshot file");
      try {
        const source = Readable.fromWeb(body as Parameters<typeof Readable.fromWeb>[0]);
        const summary = await serialized(() => importSnapshot(c.get("core"), c.get("jobs"), source));
        log(`snapshot imported: ${JSON.stringify(summary)}`);
        return summary;
      } catch (error) {
        if (error instanceof SnapshotError) throw invalidRequest("INVALID_SNAPSHOT", error.message);
        throw error;
      }
    },
  });
}
