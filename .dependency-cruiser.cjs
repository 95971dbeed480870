// The layer rules of the code base, checked by `pnpm lint` (dependency-cruiser). Type-only imports count: a
// circle through types is still a circle for whoever reads or changes the code.
//
// The root `pnpm lint:repo` runs it over every package's code (sources, tests, scripts) at once.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Modules import each other, directly or through others (type-only imports included).",
      from: {},
      to: { circular: true },
    },
    {
      name: "emulator-domain-and-jobs-below-http",
      severity: "error",
      comment:
        "The emulator's domain/ and jobs/ are plain logic: they never import the HTTP layer (http/), the HTC " +
        "routes (routes/) or the admin API (admin/). Errors they throw live in errors.ts; http/ maps them.",
      from: { path: "^apps/emulator/src/(domain|jobs)/" },
      to: { path: "^apps/emulator/src/(http|routes|admin)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Built output and generated bundles are not the code anyone edits.
    exclude: { path: "(^|/)(node_modules|build|dist)/" },
    // Count `import type` and type-only re-exports too.
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["@htcemu/source", "import", "require", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".d.ts"],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
