// Maps concrete URL paths to the contract's path templates. Kept independent of OpenAPI so it can be tested
// on its own: a route is just a method and a template such as `/htc/projects/{projectId}`.

/** The prefix under which the API is served; contract paths are written without it. */
export const API_PREFIX = "/api/v1";

export interface Route {
  readonly method: string;
  readonly path: string;
}

export interface RouteMatch<T extends Route> {
  readonly route: T;
  /** Path parameters, percent-decoded (`%3A` → `:`, `%2F` → `/`). */
  readonly params: Record<string, string>;
}

type Segment = { kind: "literal"; value: string } | { kind: "param"; name: string } | { kind: "mixed"; regex: RegExp; names: string[] };

interface CompiledRoute<T extends Route> {
  route: T;
  method: string;
  segments: Segment[];
  /** Per segment: 2 literal, 1 mixed, 0 parameter. Compared left to right so literals win. */
  rank: number[];
}

export interface MatcherOptions {
  /** Prefix stripped from concrete paths before matching (default `/api/v1`). */
  prefix?: string;
}

export class PathMatcher<T extends Route> {
  private readonly routes: CompiledRoute<T>[];
  readonly prefix: string;

  constructor(routes: readonly T[], options: MatcherOptions = {}) {
    this.prefix = options.prefix ?? API_PREFIX;
    this.routes = routes.map((route) => compileRoute(route)).sort((a, b) => compareRank(b.rank, a.rank));
  }

  /** The most specific route for this method and path, or undefined. Accepts paths with or without the prefix. */
  match(method: string, path: string): RouteMatch<T> | undefined {
    const wanted = method.toUpperCase();
    for (const segments of this.candidates(path)) {
      for (const compiled of this.routes) {
        if (compiled.method !== wanted) continue;
        const params = matchSegments(compiled.segments, segments);
        if (params) return { route: compiled.route, params };
      }
    }
    return undefined;
  }

  /** Every method declared for a path (empty when no template matches it), e.g. to tell 405 from 404. */
  methods(path: string): string[] {
    const found = new Set<string>();
    for (const segments of this.candidates(path)) {
      for (const compiled of this.routes) {
        if (matchSegments(compiled.segments, segments)) found.add(compiled.method);
      }
    }
    return [...found];
  }

  /** Whether the path lies under the API prefix (so an unmatched path there is an unknown operation). */
  isUnderPrefix(path: string): boolean {
    const bare = stripQuery(path);
    return this.prefix !== "" && (bare === this.prefix || bare.startsWith(`${this.prefix}/`));
  }

  /** Raw segment lists to try: the path without the prefix first, then the path as given. */
  private candidates(path: string): string[][] {
    const bare = stripQuery(path);
    const result: string[][] = [];
    if (this.isUnderPrefix(bare)) result.push(splitPath(bare.slice(this.prefix.length) || "/"));
    result.push(splitPath(bare));
    return result;
  }
}

function stripQuery(path: string): string {
  const cut = path.search(/[?#]/);
  return cut === -1 ? path : path.slice(0, cut);
}

/** Splits on raw `/` only, so an encoded `%2F` stays inside its segment. */
function splitPath(path: string): string[] {
  const trimmed = path.startsWith("/") ? path.slice(1) : path;
  return trimmed === "" ? [] : trimmed.split("/");
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function compileRoute<T extends Route>(route: T): CompiledRoute<T> {
  const segments = splitPath(route.path).map(compileSegment);
  const rank = segments.map((s) => (s.kind === "literal" ? 2 : s.kind === "mixed" ? 1 : 0));
  return { route, method: route.method.toUpperCase(), segments, rank };
}

function compileSegment(text: string): Segment {
  const whole = /^\{([^{}]+)\}$/.exec(text);
  if (whole) return { kind: "param", name: whole[1]! };
  if (!text.includes("{")) return { kind: "literal", value: text };
  // A segment such as `{name}.json`: literal parts escaped, each parameter captures at least one character.
  const names: string[] = [];
  const source = text
    .split(/(\{[^{}]+\})/)
    .map((part) => {
      const param = /^\{([^{}]+)\}$/.exec(part);
      if (!param) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(param[1]!);
      return "(.+?)";
    })
    .join("");
  return { kind: "mixed", regex: new RegExp(`^${source}$`), names };
}

function matchSegments(template: Segment[], raw: string[]): Record<string, string> | undefined {
  if (template.length !== raw.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const segment = template[i]!;
    const value = raw[i]!;
    if (segment.kind === "literal") {
      if (value !== segment.value && safeDecode(value) !== segment.value) return undefined;
    } else if (segment.kind === "param") {
      if (value === "") return undefined;
      params[segment.name] = safeDecode(value);
    } else {
      const found = segment.regex.exec(value);
      if (!found) return undefined;
      segment.names.forEach((name, k) => {
        params[name] = safeDecode(found[k + 1]!);
      });
    }
  }
  return params;
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
