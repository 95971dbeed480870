// Names in a project's registry. A project's repositories live under `rescale/<projectId>/` of the emulator's
// registry, so a repository `solver` of project P is `<registryHost>/rescale/P/solver` to Docker. Jobs and the HTC
// operations name images relative to that prefix, as `<repo>:<tag>`.

/** The contract's `repoName` pattern: lowercase components joined by single `.`, `_`, `-`, and by `/`. */
export const REPO_NAME_PATTERN = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Docker's tag grammar. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** The registry refuses full names longer than this (distribution's limit). */
const MAX_FULL_NAME = 255;

export const NAMESPACE = "rescale";

/** `rescale/<projectId>/`: the part of every repository name that belongs to the project. */
export function projectNamespace(projectId: string): string {
  return `${NAMESPACE}/${projectId}/`;
}

/** The repository as the registry knows it: `rescale/<projectId>/<repo>`. */
export function fullRepositoryName(projectId: string, repo: string): string {
  return `${projectNamespace(projectId)}${repo}`;
}

/** `<registryHost>/rescale/<projectId>/`, with the trailing slash clients concatenate to. */
export function registryUri(registryHost: string, projectId: string): string {
  return `${registryHost}/${projectNamespace(projectId)}`;
}

/** Why `repo` cannot name a repository of `projectId`, or undefined when it can. */
export function repoNameProblem(projectId: string, repo: string): string | undefined {
  if (!REPO_NAME_PATTERN.test(repo)) {
    return "must be lowercase letters and digits in components separated by '.', '_' or '-', optionally joined by '/'";
  }
  const room = MAX_FULL_NAME - projectNamespace(projectId).length;
  if (repo.length > room) return `must be at most ${room} characters long (the registry limits full names to ${MAX_FULL_NAME})`;
  return undefined;
}

export interface ImageRef {
  repo: string;
  tag: string;
}

/**
 * `<repo>[:<tag>]` → repo and tag (`latest` when none is given). A leading registry address of the project
 * (`<registryHost>/rescale/<projectId>/`) is accepted and dropped. Undefined when the name is not of that form.
 */
export function parseImageName(name: string, prefix?: string): ImageRef | undefined {
  let rest = name;
  if (prefix && rest.startsWith(prefix)) rest = rest.slice(prefix.length);
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  const hasTag = colon > slash;
  const repo = hasTag ? rest.slice(0, colon) : rest;
  const tag = hasTag ? rest.slice(colon + 1) : "latest";
  if (!REPO_NAME_PATTERN.test(repo) || !TAG_PATTERN.test(tag)) return undefined;
  return { repo, tag };
}

/** A repository scope of the token protocol: `repository:<name>:<actions>`. */
export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

/**
 * The `scope` parameters of a token request. Each may hold several scopes separated by spaces; a name may contain
 * `:` (a registry host with a port), so the actions are what follows the last `:` and the type what precedes the
 * first.
 */
export function parseScopes(values: readonly string[]): Scope[] {
  const scopes: Scope[] = [];
  for (const value of values) {
    for (const item of value.split(" ")) {
      if (!item) continue;
      const first = item.indexOf(":");
      const last = item.lastIndexOf(":");
      if (first < 0 || last === first) continue;
      scopes.push({
        type: item.slice(0, first),
        name: item.slice(first + 1, last),
        actions: item
          .slice(last + 1)
          .split(",")
          .filter(Boolean),
      });
    }
  }
  return scopes;
}
