// Public API of @htcemu/client (portable core). Node-only helpers live in @htcemu/client/node.
export {
  type AuthProvider,
  type AuthRequest,
  bearerTokenAuth,
  type CachedToken,
  defaultRefreshMargin,
  isKeyAuthPath,
  type RescaleCredential,
  TokenManager,
  type TokenManagerOptions,
} from "./auth.js";
export {
  CLIENT_VERSION,
  createHtcClient,
  DEFAULT_USER_AGENT,
  type HtcClient,
  type HtcClientOptions,
  type HtcCredentialOptions,
} from "./client.js";
export {
  type CredentialKind,
  DEFAULT_BASE_URL,
  DEFAULT_PROFILE,
  type Environment,
  type HtcConfigInput,
  normalizeBaseUrl,
  type Profiles,
  RESCALE_PLATFORM_HOSTS,
  type ResolvedHtcConfig,
  resolveHtcConfig,
} from "./config.js";
export {
  HtcApiError,
  HtcError,
  type HtcErrorCode,
  HtcNetworkError,
  HtcTimeoutError,
  parseErrorBody,
  type HtcRequestInfo,
  unwrap,
} from "./errors.js";
export type { components, operations, paths, Readable, Writable } from "@htcemu/openapi/types";
export { requireMember } from "./members.js";
export {
  HtcSubmitError,
  type JobBatchRequest,
  type JobBatchResponse,
  jobId,
  MAX_BATCH_SIZE,
  MAX_BATCHES_PER_REQUEST,
  parseJobId,
  type SubmitJobsOptions,
  type SubmitJobsResult,
  type SubmitProgress,
  type SubmittedBatch,
  submitJobs,
} from "./jobs.js";
export {
  type CollectOptions,
  collect,
  nextCursor,
  type PageBody,
  type PageInit,
  type PageItem,
  type PaginatedPath,
  type PaginateOptions,
  paginate,
  paginatePages,
} from "./pagination.js";
export { DEFAULT_RETRY, type RetryOptions } from "./retry.js";
export type { FetchFn } from "./transport.js";
export { isTerminalStatus, JOB_STATUSES, type RescaleJobStatus } from "./job-status.js";
export { type GroupSummary, summarize, type WaitForGroupOptions, waitForGroup } from "./wait-for-group.js";
