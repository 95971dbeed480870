// @htcemu/contract-tests: the pieces of the contract suite, for running parts of it from elsewhere (a CLI, a
// script against a staging deployment). The suite itself is in test/ and runs with `pnpm --filter
// @htcemu/contract-tests test`.
export { type Answer, BadInputTally, type Credentials, type Failure, formatFailure, operationSeed, sendRequest } from "./bad-input.js";
export { CLIENT_READS, type ClientRead, type OfficialClient, valuesAt } from "./client-reads.js";
export { PUSH_SOURCE_IMAGE, pushImage, pushUnavailable } from "./docker.js";
export {
  type AuthSpec,
  type BodySpec,
  DEFAULT_BODY_LIMIT,
  describeRequest,
  encodeBody,
  type GeneratorOptions,
  type HttpRequestSpec,
  type InvalidRequest,
  InvalidRequestGenerator,
  type MutationKind,
  requestPath,
  SchemaWalker,
} from "./generate.js";
export { checkedFetch, contract, coverageReport, heldToAlwaysSend, newCoverage, suiteClient, type SuiteClientOptions } from "./harness.js";
export {
  IN_FLIGHT_OPERATIONS,
  NOT_ROUTED,
  probeOperations,
  probeRoute,
  type RouteProbe,
  type ServedSet,
  servedOperations,
} from "./served.js";
export { diffSnapshots, type Snapshot, type SnapshotScope, takeSnapshot } from "./snapshot.js";
export {
  ENV,
  type EmulatorTargetOptions,
  type RemoteOptions,
  resolveTarget,
  type Target,
  type TargetKind,
  writesRefused,
} from "./target.js";
