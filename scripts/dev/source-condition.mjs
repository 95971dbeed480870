// Module-resolution hook: adds the `@htcemu/source` export condition, so the workspace packages resolve to their
// TypeScript sources (src/) instead of their builds (build/). Registered by scripts/dev/sources.mjs.
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, "@htcemu/source"] });
}
