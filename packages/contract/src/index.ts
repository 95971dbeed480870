// The contract of the Rescale HTC API as a library: operations, path matching, validation and coverage.
// Test helpers that spawn processes live in `@htcemu/contract/testing`.
export { type Contract, type ContractOptions, createContract, loadContract } from "./contract.js";
export {
  type Coverage,
  type CoverageOptions,
  type CoverageRecord,
  createCoverage,
  loadCoverage,
  saveCoverage,
} from "./coverage.js";
export { findMediaType, isJsonMediaType, normalizeMediaType } from "./media-type.js";
export {
  type ContentSpec,
  HTTP_METHODS,
  type OpenApiDocument,
  type Operation,
  type OperationIndex,
  type OperationMatch,
  type ParameterSpec,
  type RequestBodySpec,
  type ResponseSpec,
  type SchemaLocation,
} from "./operations.js";
export { API_PREFIX, PathMatcher, type MatcherOptions, type Route, type RouteMatch } from "./matcher.js";
export { ABSENT_WHEN_UNSET, deriveView, escapePointer, resolvePointer, type SchemaView } from "./schemas.js";
export {
  ContractValidator,
  formatViolations,
  type HeadersInput,
  type QueryInput,
  type RequestInput,
  type ResponseTarget,
  type ResponseValidationOptions,
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
