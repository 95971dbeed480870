// Choosing the executor: Docker when asked (or, with `auto`, when an engine answers), the simulation otherwise.
import type { ResolvedOptions } from "../options.js";
import type { Clock } from "../clock.js";
import type { EngineProbe } from "./engine-probe.js";
import type { Executor, ExecutorEvents } from "./executor.js";
import { type ImageCatalog, localImages, simulatedImages } from "./images.js";
import { SimulatedExecutor } from "./simulated-executor.js";

export interface ExecutorChoice {
  make: (events: ExecutorEvents) => Executor;
  images: ImageCatalog;
  /** How a container names the host that runs the emulator. */
  hostForContainers: string;
  /** Why jobs are simulated when Docker was not ruled out by the options (no engine answers). */
  simulatedBecause?: string;
}

export async function chooseExecutor(
  options: ResolvedOptions,
  clock: Clock,
  instanceId: string,
  log: (line: string) => void,
  probe: EngineProbe,
): Promise<ExecutorChoice> {
  const simulated = (because?: string): ExecutorChoice => ({
    make: (events) => new SimulatedExecutor(events, clock, options.simulation),
    images: simulatedImages,
    hostForContainers: "127.0.0.1",
    ...(because ? { simulatedBecause: because } : {}),
  });
  if (options.executor === "simulated") return simulated();
  // Loaded on demand (by the probe): an emulator that only simulates never touches Docker.
  const { docker, check: engine } = await probe.get();
  if (!engine.ok) {
    if (options.executor === "docker") throw new Error(engine.reason);
    log(`no Docker engine answers, so jobs are simulated (${engine.reason.split("\n")[0]})`);
    return simulated(engine.reason);
  }
  const { DockerExecutor } = await import("./docker-executor.js");
  let hostForContainers = engine.info.desktop ? "host.docker.internal" : "127.0.0.1";
  return {
    make: (events) => {
      const executor = new DockerExecutor({
        docker,
        engine: engine.info,
        events,
        clock,
        instanceId,
        log,
        ...(options.capacityVcpus ? { capacityVcpus: options.capacityVcpus } : {}),
        ...(options.jobNetwork ? { networkMode: options.jobNetwork } : {}),
      });
      // The executor knows the network it chose (an explicit --job-network included).
      hostForContainers = executor.hostAddressForContainers;
      return executor;
    },
    images: localImages(async (image) => {
      try {
        await docker.getImage(image).inspect();
        return true;
      } catch {
        return false;
      }
    }, log),
    get hostForContainers() {
      return hostForContainers;
    },
  };
}
