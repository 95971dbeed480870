// How the emulator's container is reached, decided from what the engine is: the one place the two paths differ.
//
//   host   the host's network (Linux engines). The emulator listens on 127.0.0.1:<port> of the machine, as
//          `htc-emulator` would; job containers (host network too) and the project registry are reached on
//          loopback. The only way on an engine without a bridge network.
//   ports  a published port (Docker Desktop, and Linux engines with a bridge network: testcontainers' usual
//          way). The emulator listens on every interface of its container, behind an admin token; the port is
//          published at the same number on the engine's host, and --public-url says where clients reach it, so
//          links, storage endpoints and the API URL of jobs are right (jobs reach it through
//          host.docker.internal on Docker Desktop, 127.0.0.1 on the host network of a Linux engine).
//
// Pure: the container class feeds it what the engine said, so both paths are tested anywhere.

export type NetworkChoice = "auto" | "host" | "ports";

export interface EngineFacts {
  /** The engine's operating system, e.g. "Docker Desktop" or "Debian GNU/Linux 12 (bookworm)". */
  operatingSystem: string;
  /** Whether the engine has the default `bridge` network. */
  hasBridgeNetwork: boolean;
  /** The platform of the process running the tests. */
  platform: NodeJS.Platform;
}

/** The network mode to use for the emulator's container. */
export function chooseNetwork(choice: NetworkChoice, engine: EngineFacts): "host" | "ports" {
  if (choice !== "auto") return choice;
  // An engine in a VM (Docker Desktop, or any engine seen from macOS or Windows) has no usable host network.
  const vm = /docker desktop/i.test(engine.operatingSystem) || engine.platform === "darwin" || engine.platform === "win32";
  if (vm) return "ports";
  return engine.hasBridgeNetwork ? "ports" : "host";
}

export interface Placement {
  /** `--network host`, or undefined for the engine's default network. */
  networkMode: "host" | undefined;
  /**
   * The port to publish (the same number inside and outside) and the host's interface it is published on
   * (loopback when the engine is this machine's), or undefined on the host network.
   */
  publish: { port: number; hostIp: string } | undefined;
  /** HTC_EMULATOR_* variables that follow from the choice. */
  environment: Record<string, string>;
  /** Where the tests reach the emulator: `http://<host>:<port>`. */
  rootUrl: string;
}

/**
 * The container's settings for a mode. `port` is a free port of the engine's host; `host` is how the tests reach
 * that machine (testcontainers' `getHost()`, usually localhost); `adminToken` guards the admin API off loopback.
 */
export function placement(mode: "host" | "ports", port: number, host: string, adminToken: string): Placement {
  if (mode === "host") {
    // Loopback of the host itself: no token needed, and nothing reachable from elsewhere.
    return {
      networkMode: "host",
      publish: undefined,
      environment: { HTC_EMULATOR_HOST: "127.0.0.1", HTC_EMULATOR_PORT: String(port) },
      rootUrl: `http://127.0.0.1:${port}`,
    };
  }
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const local = ["localhost", "127.0.0.1", "::1", "[::1]"].includes(host);
  const rootUrl = `http://${hostPart}:${port}`;
  return {
    networkMode: undefined,
    // The same number on both sides: the emulator's own idea of its port then matches what clients use, even
    // where --public-url is not consulted.
    publish: { port, hostIp: local ? "127.0.0.1" : "" },
    environment: {
      HTC_EMULATOR_HOST: "0.0.0.0",
      HTC_EMULATOR_PORT: String(port),
      HTC_EMULATOR_PUBLIC_URL: rootUrl,
      HTC_EMULATOR_ADMIN_TOKEN: adminToken,
    },
    rootUrl,
  };
}
