// The two network paths, decided and laid out without an engine: the host's network here (an engine without a
// bridge network), published ports on Docker Desktop and on Linux engines with a bridge.
import { describe, expect, it } from "vitest";
import { demultiplex } from "../src/readiness-wait.js";
import { chooseNetwork, placement } from "../src/network.js";

const debian = { operatingSystem: "Debian GNU/Linux 12 (bookworm)", platform: "linux" as const };

describe("chooseNetwork", () => {
  it("takes the host's network on a Linux engine without a bridge network", () => {
    expect(chooseNetwork("auto", { ...debian, hasBridgeNetwork: false })).toBe("host");
  });

  it("publishes a port on a Linux engine with a bridge network, and on any engine in a VM", () => {
    expect(chooseNetwork("auto", { ...debian, hasBridgeNetwork: true })).toBe("ports");
    expect(chooseNetwork("auto", { operatingSystem: "Docker Desktop", hasBridgeNetwork: true, platform: "linux" })).toBe("ports");
    // Colima, OrbStack, Rancher Desktop… seen from macOS or Windows: a VM whatever it calls itself.
    expect(chooseNetwork("auto", { operatingSystem: "Ubuntu 24.04 LTS", hasBridgeNetwork: true, platform: "darwin" })).toBe("ports");
    expect(chooseNetwork("auto", { operatingSystem: "Docker Desktop", hasBridgeNetwork: false, platform: "win32" })).toBe("ports");
  });

  it("does what it is told", () => {
    expect(chooseNetwork("host", { operatingSystem: "Docker Desktop", hasBridgeNetwork: true, platform: "darwin" })).toBe("host");
    expect(chooseNetwork("ports", { ...debian, hasBridgeNetwork: false })).toBe("ports");
  });
});

describe("placement", () => {
  it("on the host's network: loopback, the port by variable, no token, nothing published", () => {
    expect(placement("host", 41000, "localhost", "tok")).toEqual({
      networkMode: "host",
      publish: undefined,
      environment: { HTC_EMULATOR_HOST: "127.0.0.1", HTC_EMULATOR_PORT: "41000" },
      rootUrl: "http://127.0.0.1:41000",
    });
  });

  it("with a published port: every interface inside, the same port on the host's loopback, the public URL, the admin token", () => {
    const place = placement("ports", 41000, "localhost", "tok");
    expect(place.networkMode).toBeUndefined();
    expect(place.publish).toEqual({ port: 41000, hostIp: "127.0.0.1" });
    expect(place.environment).toEqual({
      HTC_EMULATOR_HOST: "0.0.0.0",
      HTC_EMULATOR_PORT: "41000",
      HTC_EMULATOR_PUBLIC_URL: "http://localhost:41000",
      HTC_EMULATOR_ADMIN_TOKEN: "tok",
    });
    expect(place.rootUrl).toBe("http://localhost:41000");
  });

  it("publishes on every interface of a remote engine's host, which the tests reach by name", () => {
    const place = placement("ports", 41000, "docker.example.internal", "tok");
    expect(place.publish).toEqual({ port: 41000, hostIp: "" });
    expect(place.rootUrl).toBe("http://docker.example.internal:41000");
    expect(placement("ports", 41000, "::1", "tok").rootUrl).toBe("http://[::1]:41000");
  });
});

describe("demultiplex", () => {
  it("reads Docker's framed log stream, and plain text as it is", () => {
    const frame = (stream: number, text: string) => {
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([header, Buffer.from(text)]);
    };
    expect(demultiplex(Buffer.concat([frame(1, "out\n"), frame(2, "err\n")]))).toBe("out\nerr\n");
    expect(demultiplex(Buffer.from("plain text\n"))).toBe("plain text\n");
  });
});
