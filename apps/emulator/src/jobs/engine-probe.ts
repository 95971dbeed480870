// One question to the Docker engine per emulator, shared by whoever needs the answer (the executor, and the
// registry when it runs as a container). Dockerode is loaded only when someone asks: an emulator that simulates
// jobs and runs the registry binary never touches Docker.
import type Dockerode from "dockerode";
import type { DockerEngineCheck } from "./docker-engine.js";

export interface EngineAnswer {
  docker: Dockerode;
  check: DockerEngineCheck;
}

export interface EngineProbe {
  /** True once someone asked: the answer is then on its way (or here), and waiting for it costs nothing more. */
  readonly started: boolean;
  get(): Promise<EngineAnswer>;
}

export function engineProbe(): EngineProbe {
  let answer: Promise<EngineAnswer> | undefined;
  return {
    get started() {
      return answer !== undefined;
    },
    get() {
      answer ??= import("./docker-engine.js").then(async ({ defaultDocker, detectDockerEngine }) => {
        const docker = defaultDocker();
        return { docker, check: await detectDockerEngine(docker) };
      });
      return answer;
    },
  };
}
