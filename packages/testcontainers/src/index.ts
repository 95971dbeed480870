// @htcemu/testcontainers: the HTC emulator's image, started from a test suite with testcontainers.
export {
  DEFAULT_IMAGE,
  HtcEmulatorContainer,
  type HtcEmulatorOptions,
  type SimulationProfile,
  StartedHtcEmulatorContainer,
} from "./container.js";
export { chooseNetwork, type EngineFacts, type NetworkChoice, type Placement, placement } from "./network.js";
export { READY_PATH } from "./readiness-wait.js";
