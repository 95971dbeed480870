// The repositories of one database, built once per emulator: every statement is prepared when they are built.
import type { Db } from "../database.js";
import { IdentityRepository } from "./identity.js";
import { JobStateRepository } from "./job-states.js";
import { JobRepository } from "./jobs.js";
import { ProjectRepository } from "./projects.js";
import { RegistryRepository } from "./registry.js";
import { StateRepository } from "./state.js";
import { TaskRepository } from "./tasks.js";

export interface Repositories {
  identity: IdentityRepository;
  projects: ProjectRepository;
  tasks: TaskRepository;
  jobs: JobRepository;
  /** Status changes of jobs (the scheduler, the test controls, fault rules). */
  jobStates: JobStateRepository;
  registry: RegistryRepository;
  /** The whole state at once (reset, snapshots). */
  state: StateRepository;
}

export function createRepositories(db: Db): Repositories {
  return {
    identity: new IdentityRepository(db),
    projects: new ProjectRepository(db),
    tasks: new TaskRepository(db),
    jobs: new JobRepository(db),
    jobStates: new JobStateRepository(db),
    registry: new RegistryRepository(db),
    state: new StateRepository(db),
  };
}
