// Bodies that satisfy the real contract, for tests that then break one thing at a time.
export function validProject(): Record<string, unknown> {
  return {
    projectId: "8f9db624-62de-44da-942f-edcc244f4fcb",
    projectName: "demo",
    projectDescription: "a project",
    createdBy: "qWoUF",
    workspaceId: "04-8473942",
    organizationCode: null,
    createdAt: "2024-03-10T16:15:50Z",
    containerRegistry: "123456789012.dkr.ecr.us-west-2.amazonaws.com/htc/",
    repositories: [],
    regions: ["AWS_US_WEST_2"],
    regionSettings: [],
    projectFolderPath: "s3://bucket/projects/8f9db624/",
  };
}

export function validTask(): Record<string, unknown> {
  return {
    projectId: "8f9db624-62de-44da-942f-edcc244f4fcb",
    taskId: "123e4567-e89b-12d3-a456-426614174000",
    taskName: "render",
    taskDescription: "frames",
    createdBy: "qWoUF",
    workspaceId: "04-8473942",
    createdAt: "2024-03-10T16:15:50Z",
    lastActiveAt: "2024-03-10T16:15:50Z",
    archivedAt: null,
    deletedAt: null,
    taskFolderPath: "s3://bucket/tasks/123e4567/",
    lifecycleStatus: "ACTIVE",
  };
}

/** A batch as a caller submits it: no read-only members. */
export function submittedBatch(): Record<string, unknown> {
  return {
    jobName: "face-tagger",
    batchSize: 2,
    regions: ["AWS_US_WEST_2"],
    htcJobDefinition: {
      imageName: "opencv-htc-tutorial:v1",
      maxVCpus: 1,
      maxMemory: 128,
      execTimeoutSeconds: 600,
      commands: ["python3", "face_tagger.py"],
    },
  };
}

/** The same batch as the server echoes it: read-only members filled in. */
export function acceptedBatch(): Record<string, unknown> {
  return {
    ...submittedBatch(),
    taskId: "123e4567-e89b-12d3-a456-426614174000",
    projectId: "8f9db624-62de-44da-942f-edcc244f4fcb",
    parentJobId: "5b0c6d7e-2f1a-4c3b-9d8e-7f6a5b4c3d2e",
    createdBy: "qWoUF",
    workspaceId: "04-8473942",
    rescaleTimeReceived: "2024-03-10T16:15:50Z",
    jobDefinitionName: "jobdef-5b0c6d7e",
  };
}

/** The batch as the emulator echoes it: every declared member present, null where nothing was sent. */
export function completeBatch(): Record<string, unknown> {
  return {
    ...acceptedBatch(),
    group: "g1",
    region: null,
    tags: null,
    retryStrategy: null,
    experimental: null,
    rescaleProjectId: null,
    cloudProvider: null,
    htcJobDefinition: {
      imageName: "opencv-htc-tutorial:v1",
      maxVCpus: 1,
      maxMemory: 128,
      maxDiskGiB: null,
      maxSwap: null,
      tags: null,
      commands: ["python3", "face_tagger.py"],
      envs: null,
      claims: null,
      execTimeoutSeconds: 600,
      architecture: null,
      priority: null,
      workingDir: null,
    },
  };
}

/** A job as the emulator serves it (FULL view, not yet placed on a machine). */
export function completeJob() {
  return {
    jobUUID: "5b0c6d7e-2f1a-4c3b-9d8e-7f6a5b4c3d2e:0",
    providerJobId: null,
    region: "AWS_US_WEST_2",
    taskId: "123e4567-e89b-12d3-a456-426614174000",
    projectId: "8f9db624-62de-44da-942f-edcc244f4fcb",
    workspaceId: "04-8473942",
    createdBy: "qWoUF",
    group: null,
    status: "SUBMITTED_TO_RESCALE",
    statusReason: null,
    container: null,
    createdAt: "2024-03-10T16:15:50Z",
    updatedAt: "2024-03-10T16:15:50Z",
    startedAt: null,
    completedAt: null,
    failureCode: null,
    commands: ["true"],
    envs: [],
    jobExecutionEnvironment: { instanceId: null, instanceType: "c6i.xlarge", architecture: 1 },
    tags: [],
    architecture: "X86",
    maxVCpus: 1,
    maxMemory: 4000,
    maxDiskGiB: null,
    execTimeoutSeconds: 1209600,
    minVCpus: 1,
    maxSwap: null,
    maxGpus: null,
    imageName: "app:v1",
    instanceId: null,
    instanceLabels: null,
  };
}

export const JOBS = "/api/v1/htc/projects/p1/tasks/t1/jobs";
