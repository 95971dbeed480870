// `htc image create-repo|login-repo|push|get`: the project's private container registry. Registry logins and
// pushes run the docker CLI (or podman: --docker / HTC_DOCKER), whose output goes to stderr.
import { spawn } from "node:child_process";
import { HtcApiError, HtcTimeoutError, unwrap } from "@htcemu/client";
import type { Command } from "commander";
import { type Session, sessionOf } from "../context.js";
import { externalError, usageError } from "../errors.js";
import { secondsOption, sleep } from "./common.js";

const REPO_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const TAG = /^[_a-zA-Z0-9][-._a-zA-Z0-9]{0,127}$/;

export function registerImageCommands(program: Command): void {
  const image = program.command("image").description("the project's container registry: repositories, login, push, image status");
  const dockerOption = ["--docker <command>", "container CLI to run (env HTC_DOCKER; default docker; podman works too)"] as const;

  image
    .command("create-repo")
    .argument("<repo>", "repository name, e.g. my-app or team/tools/solver")
    .description("create a repository in the project's registry (idempotent: an existing one is reported, not an error)")
    .action(async (repo: string, _opts, command: Command) => {
      const session = sessionOf(command);
      checkRepo(repo);
      const created = await createRepo(session, repo);
      session.out.result(created, () =>
        session.out.line(
          `${created.successfullyCreated ? "Created" : "Repository exists:"} ${created.registryURI}${created.repositoryName}`,
        ),
      );
    });

  image
    .command("login-repo")
    .description("log the docker CLI in to the project's registry (docker login -u AWS --password-stdin <host>)")
    .option(...dockerOption)
    .action(async (opts: { docker?: string }, command: Command) => {
      const session = sessionOf(command);
      const { host, registry } = await login(session, opts.docker);
      session.out.result({ registry, host, loggedIn: true }, () => session.out.line(`Logged in to ${host} (registry ${registry})`));
    });

  image
    .command("push")
    .argument("<image>", "local image, e.g. my-app:v1")
    .summary("push a local image to the project's registry and wait until it is READY")
    .description(
      "push a local image to the project's registry: creates the repository, logs in, tags the image as " +
        "<containerRegistry><repo>:<tag>, pushes it, then waits until its status is READY",
    )
    .option("--repo <repo>", "repository to push to (default: the image's name without registry host)")
    .option("--tag <tag>", "tag to push as (default: the image's tag, or latest)")
    .option("--no-wait", "do not wait for the image to become READY")
    .option("--wait-timeout <seconds>", "how long to wait for READY (exit code 4 after)", secondsOption, 300)
    .option("--interval <seconds>", "poll interval while waiting", secondsOption, 2)
    .option(...dockerOption)
    .action(
      async (
        local: string,
        opts: { repo?: string; tag?: string; wait: boolean; waitTimeout: number; interval: number; docker?: string },
        command: Command,
      ) => {
        const session = sessionOf(command);
        const parsed = parseLocalImage(local);
        const repo = opts.repo ?? parsed.repo;
        const tag = opts.tag ?? parsed.tag;
        checkRepo(repo);
        if (!TAG.test(tag)) throw usageError(`invalid tag ${JSON.stringify(tag)}`);
        await createRepo(session, repo);
        const { registry } = await login(session, opts.docker);
        const target = `${registry.replace(/\/+$/, "")}/${repo}:${tag}`;
        const docker = dockerCommand(session, opts.docker);
        await runTool(docker, ["tag", local, target]);
        await runTool(docker, ["push", target]);
        const imageName = `${repo}:${tag}`;
        let status: string = "PUSHED";
        if (opts.wait) status = await waitReady(session, imageName, opts.waitTimeout * 1000, opts.interval * 1000);
        session.out.result({ image: imageName, reference: target, status }, () =>
          session.out.line(`Pushed ${target}${opts.wait ? ` (${status})` : ""}`),
        );
      },
    );

  image
    .command("get")
    .alias("list")
    .argument("[image]", "one image, repo:tag (default tag latest): show its status")
    .description("list the images of the project's registry, or show whether one is READY")
    .action(async (name: string | undefined, _opts, command: Command) => {
      const session = sessionOf(command);
      const projectId = session.projectId();
      const api = session.client().api;
      if (name !== undefined) {
        const status = await unwrap(
          api.GET("/htc/projects/{projectId}/container-registry/images/{imageName}", {
            params: { path: { projectId, imageName: name } },
            signal: session.signal,
          }),
        );
        session.out.result(status, () => session.out.line(`${name}  ${status.status}`));
        return;
      }
      const images = await unwrap(
        api.GET("/htc/projects/{projectId}/container-registry/images", { params: { path: { projectId } }, signal: session.signal }),
      );
      session.out.result(images, () => {
        session.out.info(`registry ${images.containerRegistry}`);
        session.out.table(
          ["image"],
          (images.images ?? []).map((i) => [i]),
        );
      });
    });
}

function checkRepo(repo: string): void {
  if (!REPO_NAME.test(repo)) {
    throw usageError(`invalid repository name ${JSON.stringify(repo)}: lowercase letters and digits, separated by '.', '_', '-' or '/'`);
  }
}

async function createRepo(session: Session, repo: string) {
  const projectId = session.projectId();
  return unwrap(
    session.client().api.POST("/htc/projects/{projectId}/container-registry/repo/{repoName}", {
      params: { path: { projectId, repoName: repo } },
      signal: session.signal,
    }),
  );
}

/** `my-app:v1` → my-app, v1; `ghcr.io/org/tool` → org/tool, latest; a digest is refused. */
export function parseLocalImage(ref: string): { repo: string; tag: string } {
  if (ref.includes("@")) throw usageError(`cannot push by digest (${ref}): name a tag`);
  const parts = ref.split("/");
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) parts.shift();
  const last = parts.pop() ?? "";
  const colon = last.lastIndexOf(":");
  const name = colon > 0 ? last.slice(0, colon) : last;
  const tag = colon > 0 ? last.slice(colon + 1) : "latest";
  return { repo: [...parts, name].join("/").toLowerCase(), tag };
}

function dockerCommand(session: Session, flag: string | undefined): string {
  return flag || session.env["HTC_DOCKER"] || "docker";
}

/** Fetches the registry password and runs `docker login -u AWS --password-stdin <host>`. */
async function login(session: Session, dockerFlag: string | undefined): Promise<{ host: string; registry: string }> {
  const projectId = session.projectId();
  const api = session.client().api;
  const project = await unwrap(api.GET("/htc/projects/{projectId}", { params: { path: { projectId } }, signal: session.signal }));
  const registry = project.containerRegistry;
  if (!registry) throw externalError(`project ${projectId} has no container registry`);
  const password = await unwrap(
    api.GET("/htc/projects/{projectId}/container-registry/token", {
      params: { path: { projectId } },
      parseAs: "text",
      signal: session.signal,
    }),
  );
  const host = registry.split("/")[0]!;
  await runTool(dockerCommand(session, dockerFlag), ["login", "-u", "AWS", "--password-stdin", host], password.trim());
  return { host, registry };
}

/** Polls the image's status until READY; a 404 right after the push is waited out too. */
async function waitReady(session: Session, imageName: string, timeoutMs: number, intervalMs: number): Promise<string> {
  const projectId = session.projectId();
  const api = session.client().api;
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      const { status = "(no status)" } = await unwrap(
        api.GET("/htc/projects/{projectId}/container-registry/images/{imageName}", {
          params: { path: { projectId, imageName } },
          signal: session.signal,
        }),
      );
      if (status === "READY") return status;
      last = status;
    } catch (error) {
      if (!(error instanceof HtcApiError) || error.status !== 404) throw error;
      last = "not found yet";
    }
    if (Date.now() >= deadline)
      throw new HtcTimeoutError(`image ${imageName} not READY after ${timeoutMs / 1000} s (last status: ${last})`, timeoutMs);
    if (!session.out.machine) session.out.info(`waiting for ${imageName} to be READY (${last})`);
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), session.signal);
  }
}

/** Runs a tool with its output on stderr (stdout stays for results); stdin gets `input` when given. */
export function runTool(command: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input === undefined ? "ignore" : "pipe", "pipe", "inherit"] });
    child.stdout?.pipe(process.stderr, { end: false });
    child.on("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "ENOENT"
          ? externalError(
              `${command} not found`,
              "install Docker, or pass --docker (or HTC_DOCKER) naming another container CLI such as podman",
            )
          : externalError(`${command} failed to start: ${error.message}`),
      );
    });
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(externalError(`${command} ${args[0]} failed with exit code ${code}`));
    });
    if (input !== undefined) child.stdin?.end(`${input}\n`);
  });
}
