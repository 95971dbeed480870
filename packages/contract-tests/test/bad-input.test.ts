// Bad input, for every operation: requests generated from the contract (fast-check, seeded, bounded in time)
// that are invalid by the contract's own request validation (or name ids that do not exist, or carry bad
// credentials, or an oversized body) must get a 4xx the contract declares for the operation, with the body it
// describes for that status; never a 5xx; and they must leave the observable state unchanged (snapshots of the
// project list, the fixture project and task, and the workspace, before and after). Where the contract promises
// nothing (an undeclared query parameter on a read, a cursor no `next` link carried) a success passes too, when
// its body is the contract's.
//
//   HTC_CONTRACT_SEED=<n>                   reproduce a run (the seed is printed)
//   HTC_CONTRACT_BAD_INPUT_BUDGET_MS=<ms>   time for the generated cases (default 45 000)
//   HTC_CONTRACT_BAD_INPUT_RUNS=<n>         generated cases per operation (default 40)
//
// Besides the seeded cases, every operation gets fixed ones on every run (generator.fixedCases): among them a
// submit one batch over the limit and an undeclared query parameter, which also gives getJwks (no inputs) a
// request. The totals list these and fail when one is missing.
import { unwrap } from "@htcemu/client";
import type { Operation } from "@htcemu/contract";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Answer,
  BadInputTally,
  type Credentials,
  formatFailure,
  nextCursor,
  operationSeed,
  type Security,
  sendRequest,
} from "../src/bad-input.js";
import { type HttpRequestSpec, type InvalidRequest, InvalidRequestGenerator } from "../src/generate.js";
import { contract, suiteClient } from "../src/harness.js";
import { type ServedSet, servedOperations } from "../src/served.js";
import { diffSnapshots, type Snapshot, type SnapshotScope, takeSnapshot } from "../src/snapshot.js";
import { ENV, resolveTarget, type Target } from "../src/target.js";

const seed = process.env[ENV.seed] ? Number(process.env[ENV.seed]) | 0 : (Math.random() * 2 ** 31) | 0;
const budgetMs = Number(process.env[ENV.budgetMs] ?? 45_000);
const runsPerOperation = Number(process.env[ENV.runs] ?? 40);

/**
 * Failures the emulator is known to have, each with the reason: reported (with the requests) but not failed on,
 * so the suite stays green until they are fixed. Delete an entry once its fix lands; this list only shrinks.
 */
const KNOWN_ISSUES: { operationId: RegExp; kind: string; where?: string; problems: string[]; reason: string }[] = [];

interface Fixtures {
  workspaceId: string;
  projectId: string;
  taskId: string;
  jobId: string;
  /** Every job of the fixture's held group that the getJobs baseline asks for (jobId included). */
  jobIds: string[];
  limitId: number;
  region: string;
  repo: string;
  dimension: { machineType: string; priority: string; region: string };
}

let target: Target;
let served: ServedSet;
let fixtures: Fixtures;
let credentials: Credentials;
let generator: InvalidRequestGenerator;
let scope: SnapshotScope;
const tally = new BadInputTally(contract);
/** Whether a write was wrongly accepted since the last settled snapshot. */
let unsettled = false;
const started = Date.now();
let randomSpent = 0;
let operationsLeft = 0;
const cleanups: (() => Promise<unknown>)[] = [];
/** More ids that exist and must not be generated as unknown ones. */
const extraIds: string[] = [];
/** Operations whose cases were sent (not skipped): the ones the required cases are checked for. */
const ran: string[] = [];

beforeAll(async () => {
  target = await resolveTarget();
  served = await servedOperations(contract, target);
  const client = suiteClient(target);
  const whoami = await unwrap(client.api.GET("/auth/whoami"));
  const token = await unwrap(client.api.GET("/auth/token", { headers: { Authorization: `Token ${target.apiKey}` } }));
  credentials = { bearer: token.tokenValue, apiKey: target.apiKey };
  const workspaceId = whoami.user.workspace.id;
  const regions = (await unwrap(client.api.GET("/htc/regions", { params: { query: { enabled: true } } }))).map((r) => r.region);
  const dims = await unwrap(client.api.GET("/htc/workspaces/{workspaceId}/dimensions", { params: { path: { workspaceId } } }));

  if (target.kind === "emulator") {
    // The fixture: a project with a task whose jobs are held (vCPU limit 0), so their state never moves by itself.
    // Two limits of 0: should a bad request remove one, the jobs stay held and later operations are judged alone.
    const project = await unwrap(
      client.api.POST("/htc/projects", { body: { projectName: "bad-input", projectDescription: "", regions: [regions[0]!] as never } }),
    );
    const projectId = project.projectId;
    const limit = await unwrap(
      client.api.POST("/htc/projects/{projectId}/limits", {
        params: { path: { projectId } },
        body: { vCPUs: 0, modifierRole: "PROJECT_ADMIN" },
      }),
    );
    const second = await unwrap(
      client.api.POST("/htc/projects/{projectId}/limits", {
        params: { path: { projectId } },
        body: { vCPUs: 0, modifierRole: "WORKSPACE_ADMIN" },
      }),
    );
    extraIds.push(String(second.id));
    const task = await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks", {
        params: { path: { projectId } },
        body: { taskName: "bad-input", taskDescription: "" },
      }),
    );
    const [batch] = await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks/{taskId}/jobs/batch", {
        params: { path: { projectId, taskId: task.taskId }, query: { group: "fixture-held" } },
        body: [{ batchSize: 2, htcJobDefinition: { imageName: "htcemu/shell:1", commands: ["true"] } }],
      }),
    );
    // A second project and task, so that those listings (and the jobs, two in the batch) have a second page and
    // the paginated operations start from a cursor the server gave out.
    const project2 = await unwrap(
      client.api.POST("/htc/projects", { body: { projectName: "bad-input-2", projectDescription: "", regions: [regions[0]!] as never } }),
    );
    const task2 = await unwrap(
      client.api.POST("/htc/projects/{projectId}/tasks", {
        params: { path: { projectId } },
        body: { taskName: "bad-input-2", taskDescription: "" },
      }),
    );
    extraIds.push(project2.projectId, task2.taskId);
    await unwrap(
      client.api.PUT("/htc/projects/{projectId}/task-retention-policy", {
        params: { path: { projectId } },
        body: { archiveAfter: 720, deleteAfter: 720 },
      }),
    );
    await unwrap(
      client.api.PUT("/htc/workspaces/{workspaceId}/task-retention-policy", {
        params: { path: { workspaceId } },
        body: { archiveAfter: 0, deleteAfter: 0 },
      }),
    );
    await unwrap(
      client.api.POST("/htc/projects/{projectId}/container-registry/repo/{repoName}", {
        params: { path: { projectId, repoName: "fixture-repo" } },
      }),
    );
    const dimension = dims.find((d) => d.region === regions[0]) ?? dims[0]!;
    fixtures = {
      workspaceId,
      projectId,
      taskId: task.taskId,
      jobId: `${batch!.parentJobId}:0`,
      jobIds: [`${batch!.parentJobId}:0`, `${batch!.parentJobId}:1`],
      limitId: limit.id,
      region: regions[0]!,
      repo: "fixture-repo",
      dimension: { machineType: dimension.machineType, priority: dimension.priority, region: dimension.region },
    };
  } else {
    // Elsewhere nothing is created: the first project, task and job that exist (or names that do not).
    const projects = await unwrap(client.api.GET("/htc/projects", { params: { query: { pageSize: 10 } } }));
    const projectId = target.options.projectId ?? projects.items[0]?.projectId ?? "htc-contract-tests-none";
    const tasks = await client.api.GET("/htc/projects/{projectId}/tasks", { params: { path: { projectId }, query: { pageSize: 10 } } });
    const taskId = tasks.data?.items[0]?.taskId ?? "htc-contract-tests-none";
    const jobs = await client.api.GET("/htc/projects/{projectId}/tasks/{taskId}/jobs", {
      params: { path: { projectId, taskId }, query: { pageSize: 1 } },
    });
    const limits = await client.api.GET("/htc/projects/{projectId}/limits", { params: { path: { projectId } } });
    const dimension = dims[0] ?? { machineType: "c5.large", priority: "ON_DEMAND_PRIORITY", region: regions[0] ?? "AWS_US_EAST_1" };
    fixtures = {
      workspaceId,
      projectId,
      taskId,
      jobId: jobs.data?.items[0]?.jobUUID ?? "htc-contract-tests-none:0",
      jobIds: [jobs.data?.items[0]?.jobUUID ?? "htc-contract-tests-none:0"],
      limitId: limits.data?.[0]?.id ?? 999_999_999,
      region: regions[0] ?? "AWS_US_EAST_1",
      repo: "htc-contract-tests",
      dimension: { machineType: dimension.machineType, priority: dimension.priority, region: dimension.region },
    };
  }
  scope = { workspaceId: fixtures.workspaceId, projectId: fixtures.projectId, taskId: fixtures.taskId };
  const existing = new Set([
    fixtures.workspaceId,
    fixtures.projectId,
    fixtures.taskId,
    fixtures.jobId,
    fixtures.jobId.split(":")[0]!,
    String(fixtures.limitId),
    fixtures.repo,
    ...extraIds,
  ]);
  generator = new InvalidRequestGenerator(contract, { existing, apiKey: target.apiKey });
  operationsLeft = contract.operations.length;
  console.info(
    `[bad-input] target ${target.label}; seed ${seed} (reproduce with ${ENV.seed}=${seed}); budget ${budgetMs} ms, ${runsPerOperation} generated cases per operation`,
  );
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse())
    await cleanup().catch((error: Error) => console.error(`[bad-input] clean-up failed: ${error.message}`));
  const known = tally.failures.filter(isKnown);
  if (known.length > 0) {
    const byIssue = KNOWN_ISSUES.map((issue) => ({ issue, failures: known.filter((f) => knownIssue(f) === issue) })).filter(
      (g) => g.failures.length > 0,
    );
    const lines = byIssue.map(({ issue, failures }) => `${failures.length}× ${issue.reason}\n    e.g. ${formatFailure(failures[0]!)}`);
    console.info(`[bad-input] known issues, not failed on (${known.length} failures):\n  ${lines.join("\n  ")}`);
  }
  await target?.stop();
}, 60_000);

function knownIssue(failure: { operationId: string; kind: string; where: string; problem: string }) {
  return KNOWN_ISSUES.find(
    (k) =>
      k.operationId.test(failure.operationId) &&
      k.kind === failure.kind &&
      (!k.where || k.where === failure.where) &&
      k.problems.includes(failure.problem),
  );
}

function isKnown(failure: { operationId: string; kind: string; where: string; problem: string }): boolean {
  return knownIssue(failure) !== undefined;
}

/** A valid request for each operation, on the fixtures; the generator breaks it one way at a time. */
function baseline(op: Operation): HttpRequestSpec {
  const f = fixtures;
  const pathParams: Record<string, string> = {};
  for (const param of op.parameters.filter((p) => p.in === "path")) {
    pathParams[param.name] =
      {
        projectId: f.projectId,
        taskId: f.taskId,
        jobId: f.jobId,
        workspaceId: f.workspaceId,
        id: String(f.limitId),
        region: f.region,
        repoName: f.repo,
        imageName: `${f.repo}:v1`,
      }[param.name] ?? "x";
  }
  const base = { method: op.method, pathParams, query: [] as [string, string][], auth: { kind: "default" as const } };
  const json = (value: unknown): HttpRequestSpec => ({ ...base, body: { kind: "json", value } });
  switch (op.operationId) {
    case "getProjects":
      return {
        ...base,
        query: [
          ["pageSize", "10"],
          ["onlyMyProjects", "false"],
        ],
      };
    case "createProject":
      return json({ projectName: "bad-input-baseline", projectDescription: "", regions: [f.region] });
    case "updateProject":
      return json({ regions: [f.region] });
    case "createRepo":
      return json({});
    case "createProjectDimensions":
      return json([f.dimension]);
    case "createProjectLimit":
      return json({ vCPUs: 0, modifierRole: "PROJECT_ADMIN" });
    case "updateProjectLimit":
      return json({ vCPUs: 0 });
    case "getProjectPresignedUrl":
    case "getTaskPresignedUrl":
      return {
        ...base,
        query: [
          ["filePath", "bad-input/file.txt"],
          ["method", "PUT"],
        ],
      };
    case "putProjectTaskRetentionPolicy":
    case "putWorkspaceTaskRetentionPolicy":
      return json({ archiveAfter: 720, deleteAfter: 720 });
    case "getTasks":
    case "getTaskGroups":
      return { ...base, query: [["pageSize", "10"]] };
    case "createTask":
      return json({ taskName: "bad-input-baseline", taskDescription: "" });
    case "updateTask":
      return json({ lifecycleStatus: "ACTIVE" });
    case "getGroupSummaryStatistics":
      return {
        ...base,
        query: [
          ["group", "fixture-held"],
          ["pageSize", "10"],
        ],
      };
    case "getJobs":
      return {
        ...base,
        query: [
          ["group", "fixture-held"],
          ["status", "SUBMITTED_TO_RESCALE"],
          ["viewType", "FULL"],
          ...f.jobIds.map((id) => ["jobId", id] as [string, string]),
          ["pageSize", "10"],
        ],
      };
    case "submitJobs":
      return {
        ...json([
          {
            jobName: "bad-input",
            batchSize: 1,
            regions: [f.region],
            htcJobDefinition: {
              imageName: "htcemu/shell:1",
              commands: ["sh", "-c", "true"],
              maxVCpus: 1,
              maxMemory: 512,
              maxDiskGiB: 1,
              execTimeoutSeconds: 60,
              envs: [{ name: "A", value: "1" }],
              claims: [{ name: "c", value: "v" }],
              architecture: "X86",
              priority: "ON_DEMAND_PRIORITY",
              tags: { k: "v" },
              workingDir: null,
            },
            tags: [{ key: "k", value: "v" }],
            retryStrategy: { maxRetries: 0 },
          },
        ]),
        query: [["group", "fixture-held"]],
      };
    case "cancelJobs":
      // The held group: a cancellation that slips through shows in the snapshot.
      return { ...json({}), query: [["group", "fixture-held"]] };
    case "getEvents":
      return { ...base, query: [["pageSize", "10"]] };
    case "getLogs":
      return {
        ...base,
        query: [
          ["sort", "asc"],
          ["pageSize", "10"],
        ],
      };
    case "getRegions":
      return {
        ...base,
        query: [
          ["cloudProvider", "AWS"],
          ["enabled", "true"],
        ],
      };
    case "createOAuth2Token":
      return {
        ...base,
        body: {
          kind: "form",
          fields: [
            ["grant_type", "client_credentials"],
            ["client_secret", target.apiKey],
          ],
        },
      };
    default:
      return base;
  }
}

const readOnly = (op: Operation) => op.method === "GET";

/** Operations whose baseline carries a cursor the target gave out (for the totals). */
const withRealCursor: string[] = [];

/**
 * For a paginated operation, the baseline one page in when the target has more than one: page size 1 and the
 * cursor of the first page's `next` link. The cursor cases then replace a cursor the server really gave out, and
 * every other case is judged past the first page too. Nothing is assumed about the cursor but what the contract
 * says (the `pageIndex` of `next`).
 */
async function midListing(op: Operation, security: Security, request: HttpRequestSpec): Promise<HttpRequestSpec> {
  if (!generator.isPaginated(op)) return request;
  const onePerPage = {
    ...request,
    query: [...request.query.filter(([key]) => key !== "pageSize" && key !== "pageIndex"), ["pageSize", "1"] as const],
  };
  const first = await sendRequest(target.baseUrl, op, security, onePerPage, credentials);
  const cursor = first.status === 200 ? nextCursor(first.body) : undefined;
  if (cursor === undefined) return request;
  withRealCursor.push(op.operationId);
  return { ...onePerPage, query: [...onePerPage.query, ["pageIndex", cursor] as const] };
}

async function snapshot(): Promise<Snapshot> {
  return takeSnapshot(async (path) => {
    const get = () => fetch(`${target.baseUrl}${path}`, { headers: { authorization: `Bearer ${credentials.bearer}` } });
    // A read of the state: retried once when a pooled connection was closed under it (any server may close idle ones).
    const response = await get().catch((error: unknown) => {
      if ((error as { cause?: { code?: string } }).cause?.code === "UND_ERR_SOCKET") return get();
      throw error;
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: response.status, body };
  }, scope);
}

/**
 * Waits until two snapshots 150 ms apart agree (at most 5 s): a request the server wrongly accepted may have
 * effects that land a scheduler tick later (a cancellation updates the task's lastActiveAt), which must not be
 * blamed on the next request.
 */
async function settled(): Promise<Snapshot> {
  let previous = await snapshot();
  for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    const next = await snapshot();
    if (diffSnapshots(previous, next).length === 0) return next;
    previous = next;
  }
  return previous;
}

describe("invalid requests get the contract's 4xx, never a 5xx, and change nothing", () => {
  for (const op of contract.operations) {
    it(op.operationId, async (context) => {
      operationsLeft--;
      if (!served.served.includes(op.operationId)) {
        console.info(`[bad-input] ${op.operationId}: not served by the target, skipped`);
        context.skip();
      }
      if (!readOnly(op) && !target.allowWrites) {
        console.info(`[bad-input] ${op.operationId}: destructive (a lax server would change something): set ${ENV.allowWrites}=1`);
        context.skip();
      }
      const security = generator.security(op);
      const valid = await midListing(op, security, baseline(op));
      // The baseline itself must be valid, or the mutations would not be "one thing wrong".
      expect(generator.violations(op, valid), `baseline of ${op.operationId}`).toEqual([]);
      ran.push(op.operationId);
      const failuresBefore = tally.failures.length;
      const send = (request: HttpRequestSpec): Promise<Answer> => sendRequest(target.baseUrl, op, security, request, credentials);
      const perRequestSnapshots = !readOnly(op);
      // After a write that was wrongly accepted, let its effects land before judging the next operation.
      const opBefore = unsettled ? await settled() : await snapshot();
      unsettled = false;
      let before = perRequestSnapshots ? opBefore : undefined;
      const exercise = async (invalid: InvalidRequest) => {
        const answer = await send(invalid.request);
        const failure = tally.judge(op, invalid, answer);
        if (before) {
          const after = failure ? await settled() : await snapshot();
          if (failure) unsettled = true;
          const diff = diffSnapshots(before, after);
          if (diff.length > 0) tally.stateChanged(op, invalid, diff);
          before = after;
        }
      };
      // Fixed cases first, outside the time budget: they are what every run must reach whatever the seed.
      for (const fixed of generator.fixedCases(op, valid)) await exercise(fixed);
      const arbitrary = generator.arbitrary(op, valid);
      if (!arbitrary)
        console.info(`[bad-input] ${op.operationId}: no generated cases (no parameters, body or credentials), only the fixed ones`);
      if (arbitrary) {
        const share = Math.max(500, (budgetMs - randomSpent) / Math.max(1, operationsLeft + 1));
        const t0 = Date.now();
        const opSeed = operationSeed(seed, op.operationId);
        const result = await fc.check(
          fc.asyncProperty(arbitrary, async (invalid) => {
            await exercise(invalid);
          }),
          { seed: opSeed, numRuns: runsPerOperation, interruptAfterTimeLimit: share, markInterruptAsFailure: false },
        );
        if (result.interrupted && result.numRuns === 0) {
          // On a slow machine the operation's share can pass before its first case ends: every operation still
          // gets one generated case, outside the budget.
          for (const invalid of fc.sample(arbitrary, { seed: opSeed, numRuns: 1 })) await exercise(invalid);
        } else if (result.failed) {
          throw new Error(fc.defaultReportMessage(result) ?? `property failed; seed ${opSeed}`);
        }
        randomSpent += Date.now() - t0;
      }
      if (!perRequestSnapshots) {
        const diff = diffSnapshots(opBefore, await settled());
        if (diff.length > 0) tally.stateChanged(op, undefined, diff);
      }
      const failures = tally.failures.slice(failuresBefore).filter((f) => !isKnown(f));
      expect(failures.map(formatFailure).slice(0, 10), `${failures.length} failure(s); seed ${seed}`).toEqual([]);
    });
  }

  it("the oracle itself: a valid request sent the same way is caught as accepted and as a state change", async (context) => {
    if (target.kind !== "emulator") context.skip();
    const op = contract.getOperation("createTask");
    const control = new BadInputTally(contract);
    const before = await snapshot();
    const answer = await sendRequest(target.baseUrl, op, "bearer", baseline(op), credentials);
    const failure = control.judge(
      op,
      { kind: "wrong-type", where: "(control: a valid request)", request: baseline(op), specInvalid: false },
      answer,
    );
    expect(failure?.problem).toBe("accepted");
    expect(diffSnapshots(before, await snapshot()).join("\n")).toMatch(/\/tasks\?pageSize=10000/);
  });

  it("totals: requests sent, 4xx by status, no 5xx, no state change", () => {
    const known = tally.failures.filter(isKnown);
    const count = (list: typeof known, problem: string) => list.filter((f) => f.problem === problem).length;
    const required = tally.requiredCases(ran);
    console.info(
      `[bad-input] ${tally.summary(seed, Date.now() - started)}\n` +
        `  of these, from known issues (KNOWN_ISSUES): ${count(known, "accepted")} accepted, ${count(known, "state")} state changes, ${count(known, "5xx")} 5xx\n` +
        `  required cases (every run, any seed):\n${required.lines.map((line) => `  ${line}`).join("\n")}\n` +
        `  baselines one page in, with a cursor from a real \`next\` link: ${withRealCursor.join(", ") || "none"}`,
    );
    expect(tally.requests).toBeGreaterThan(0);
    expect(required.missing, "cases every run must send").toEqual([]);
    expect(tally.fiveHundreds - count(known, "5xx"), "5xx answers").toBe(0);
    expect(tally.stateChanges - count(known, "state"), "state changes").toBe(0);
    expect(tally.failures.filter((f) => !isKnown(f)).map(formatFailure)).toEqual([]);
  });
});
