// `htc emulator step`: move jobs through their lifecycle by hand while the scheduler is paused.
import { HtcApiError, JOB_STATUSES } from "@htcemu/client";
import type { AdminClient, StepRequest } from "@htcemu/client/admin";
import type { Command } from "commander";
import { sessionOf } from "../../context.js";
import { CliError, ExitCode, usageError } from "../../errors.js";
import { choice, enumOption, intOption, listOption } from "../common.js";
import { adminClientOf, withEmulatorUrl } from "./admin-client.js";

type StepTarget = NonNullable<StepRequest["to"]>;
// Every status but the first, where a job already is.
const STEP_TARGETS = JOB_STATUSES.filter((status): status is StepTarget => status !== "SUBMITTED_TO_RESCALE");
const STEP_FAILURES = ["timeout", "outOfMemory", "vanish"] as const satisfies readonly NonNullable<StepRequest["failure"]>[];

export function registerStep(emulator: Command): void {
  withEmulatorUrl(
    emulator
      .command("step")
      .summary("move jobs through their lifecycle by hand (the scheduler must be paused)")
      .description(
        "move the task's jobs (or --job, or --group) one status along " +
          "SUBMITTED_TO_RESCALE → SUBMITTED_TO_PROVIDER → RUNNABLE → STARTING → RUNNING → SUCCEEDED | FAILED, " +
          "or with --to until that status; an ending job ends with --exit-code (default 0, or 1 with --to FAILED) or " +
          "--failure. The scheduler must be paused (`htc emulator scheduler pause`). At most 1000 jobs per call.",
      )
      .option("--project <id>", "the project (default: --project-id, HTC_PROJECT_ID or the context's)")
      .option("--task <id>", "the task (default: --task-id, HTC_TASK_ID or the context's)")
      .option("--job <jobId>", "only this job, <parentJobId>:<index> (repeatable, or comma-separated)", listOption(String))
      .option("--group <group>", "only the jobs of this group")
      .option("--to <status>", `move until this status: ${STEP_TARGETS.join(", ")}`, enumOption(STEP_TARGETS))
      .option("--exit-code <n>", "the exit code an ending job ends with (0…255)", intOption(0, 255))
      .option("--failure <kind>", `end with this failure instead: ${STEP_FAILURES.join(", ")}`, choice(STEP_FAILURES)),
  ).action(
    async (
      opts: {
        project?: string;
        task?: string;
        job?: string[];
        group?: string;
        to?: StepRequest["to"];
        exitCode?: number;
        failure?: StepRequest["failure"];
      },
      command: Command,
    ) => {
      if (opts.exitCode !== undefined && opts.failure !== undefined) throw usageError("--exit-code and --failure exclude each other");
      const session = sessionOf(command);
      const request: StepRequest = {
        projectId: session.projectId(opts.project),
        taskId: session.taskId(opts.task),
        ...(opts.job ? { jobIds: opts.job } : {}),
        ...(opts.group !== undefined ? { group: opts.group } : {}),
        ...(opts.to !== undefined ? { to: opts.to } : {}),
        ...(opts.exitCode !== undefined ? { exitCode: opts.exitCode } : {}),
        ...(opts.failure !== undefined ? { failure: opts.failure } : {}),
      };
      const { admin } = adminClientOf(command);
      let result: Awaited<ReturnType<AdminClient["step"]>>;
      try {
        result = await admin.step(request);
      } catch (error) {
        if (error instanceof HtcApiError && error.errorType === "SCHEDULER_NOT_PAUSED") {
          throw new CliError(
            `the scheduler is not paused [${error.status} on POST /_emulator/v1/jobs/step]`,
            ExitCode.API,
            "pause it first: `htc emulator scheduler pause`",
          );
        }
        throw error;
      }
      session.out.result(result, () => {
        session.out.table(
          ["job", "from", "status", "attempt", "moved", "reason"],
          result.jobs.map((j) => [j.jobId, j.from, j.status, j.attempt, j.moved, j.reason]),
        );
        const moved = result.jobs.filter((j) => j.moved).length;
        session.out.info(result.jobs.length === 0 ? "no job matches" : `${moved} of ${result.jobs.length} job(s) moved`);
      });
    },
  );
}
