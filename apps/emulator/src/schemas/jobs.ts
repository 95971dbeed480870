// Request schemas of the Job resource and of the job-related Task operations.
import { z } from "zod";
import {
  architectureSchema,
  cloudProviderSchema,
  jobPrioritySchema,
  jobStatusSchema,
  optionalNullable,
  pageQueryShape,
  regionSchema,
  uniqueArray,
} from "./common.js";

// Written as a string so its source is the contract's pattern character for character.
// biome-ignore lint/complexity/useRegexLiterals: the string form keeps the contract's pattern verbatim
export const IMAGE_NAME_PATTERN = new RegExp(
  "^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*(:[_a-zA-Z0-9][-._a-zA-Z0-9]*)?$",
);
/** Upstream's reserved-name rule, unchanged: contains AWS_BATCH_, or starts with one of the reserved names. */
export const ENV_NAME_PATTERN =
  /^(?!.*AWS_BATCH_|RESCALE_PROJECT_ID|RESCALE_TASK_ID|RESCALE_JOB_ID|PROJECT_SHARED_FOLDER|TASK_SHARED_FOLDER|AWS_SESSION_TOKEN|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|RDF_).*/;

const int32 = z.number().int().min(-2147483648).max(2147483647);

export const envPairSchema = z.object({
  name: z.string().regex(ENV_NAME_PATTERN, "is a name the platform reserves"),
  value: z.string(),
});

export const nameValueSchema = z.object({ name: z.string(), value: z.string() });

export const jobDefinitionSchema = z.object({
  imageName: z.string().min(1).regex(IMAGE_NAME_PATTERN, "is not a valid image name (repository[:tag])"),
  maxVCpus: optionalNullable(z.number().int().min(1).max(64)),
  maxMemory: optionalNullable(z.number().int().min(4).max(235520)),
  maxDiskGiB: optionalNullable(z.number().int().min(0).max(64000)),
  maxSwap: optionalNullable(z.number().int().min(0).max(2147483647)),
  tags: optionalNullable(z.record(z.string(), z.string())),
  commands: optionalNullable(z.array(z.string())),
  envs: optionalNullable(z.array(envPairSchema)),
  claims: optionalNullable(z.array(nameValueSchema)),
  execTimeoutSeconds: optionalNullable(z.number().int().min(60).max(1209600)),
  architecture: optionalNullable(architectureSchema),
  priority: optionalNullable(jobPrioritySchema),
  workingDir: optionalNullable(z.string()),
});

export const submitRequestSchema = z.object({
  jobName: optionalNullable(z.string()),
  batchSize: z.number().int().min(1).max(1000).default(1),
  regions: optionalNullable(uniqueArray(regionSchema)),
  region: optionalNullable(regionSchema),
  htcJobDefinition: jobDefinitionSchema,
  tags: optionalNullable(z.array(z.object({ key: optionalNullable(z.string()), value: optionalNullable(z.string()) }))),
  retryStrategy: optionalNullable(z.object({ maxRetries: optionalNullable(int32.min(0).max(10)) })),
  experimental: optionalNullable(
    z.object({
      kubernetesSwap: optionalNullable(z.boolean()),
      cloudFileSystems: optionalNullable(z.boolean()),
      rescaleFilesRDFAgent: optionalNullable(z.boolean()),
      privilegedMode: optionalNullable(z.boolean()),
    }),
  ),
  rescaleProjectId: optionalNullable(z.string()),
  cloudProvider: optionalNullable(cloudProviderSchema),
});

export const MAX_BATCHES_PER_REQUEST = 100;

export const submitJobsBody = z.array(submitRequestSchema).min(1).max(MAX_BATCHES_PER_REQUEST);
export const submitJobsQuery = z.object({ group: z.string().optional() });

export const cancelJobsQuery = z.object({ group: z.string().optional(), jobId: z.array(z.string()).optional() });
/** Any JSON object (or nothing): the Python client posts `{}`. */
export const cancelJobsBody = z.object({}).passthrough().optional();

export const getJobsQuery = z.object({
  group: z.string().optional(),
  jobId: z.array(z.string()).optional(),
  status: jobStatusSchema.optional(),
  viewType: z.enum(["FULL", "SIMPLE"]).optional(),
  ...pageQueryShape,
});

export const pageOnlyQuery = z.object(pageQueryShape);
export const groupSummaryQuery = z.object({ group: z.array(z.string()).optional(), ...pageQueryShape });
export const getLogsQuery = z.object({ sort: z.enum(["asc", "desc"]).default("desc"), ...pageQueryShape });
