// Types of packages.mjs, for the TypeScript tests that use it (tests/outside).
export declare const root: string;
export interface WorkspacePackage {
  name: string;
  dir: string;
  manifest: { name: string; version: string; private?: boolean; [field: string]: unknown };
}
export declare function workspacePackages(): WorkspacePackage[];
export declare function publishedPackages(): WorkspacePackage[];
export declare function packAll(destination: string): Map<string, string>;
export declare const VERSION_CONSTANTS: [file: string, pattern: RegExp][];
