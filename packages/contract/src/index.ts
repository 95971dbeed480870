// The contract of the Rescale HTC API as a library: operations, path matching, validation and coverage.
// Test helpers that spawn processes live in `@htcemu/contract/testing`.
export {
  type Contract,
  type ContentSpec,
  type ContractOptions,
  createContract,
  HTTP_METHODS,
  loadContract,
  type OpenApiDocument,
  type Operation,
  type OperationMatch,
  type ParameterSpec,
  type RequestBodySpec,
  type ResponseSpec,
  type SchemaLocation,
} from "./contract.js";
export {
  type Coverage,
  type CoverageOptions,
  type CoverageRecord,
  createCoverage,
  loadCoverage,
  saveCoverage,
} from "./coverage.js";
export { API_PREFIX, PathMatcher, type MatcherOptions, type Route, type RouteMatch } from "./matcher.js";
export { deriveView, escapePointer, resolvePointer, type SchemaView } from "./schemas.js";
export {
  ContractValidator,
  findMediaType,
  formatViolations,
  type HeadersInput,
  isJsonMediaType,
  normalizeMediaType,
  type QueryInput,
  type RequestInput,
  type ResponseTarget,
  type Violation,
} from "./validate.js";
export {
  type ContractProxy,
  type ContractProxyOptions,
  type DriftEntry,
  type DriftReport,
  formatDriftSummary,
  forwardPath,
  type OperationReport,
  type ProxyCommandOptions,
  runProxyCommand,
  startContractProxy,
  type UnknownOperationReport,
} from "./proxy.js";
