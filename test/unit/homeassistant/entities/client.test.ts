import { describe, expect, it } from "vitest";
import { createLogger } from "../../../../src/log.js";
import { brokerErrorMessage, clientOptions, withTimeout } from "../../../../src/homeassistant/entities/client.js";
import type { PublisherLog } from "../../../../src/homeassistant/entities/publisher.js";

const B = { url: "mqtt://core-mosquitto:1883", username: "addons", password: "pw", protocolVersion: 4 as const };

describe("clientOptions", () => {
  it("sets the retained QoS 1 Last Will, a clean session, CONNACK retries and no automatic resubscribe", () => {
    const o = clientOptions(B, "energy_bridge_x", "energy_bridge/bridge/state");
    expect(o).toMatchObject({
      clientId: "energy_bridge_x",
      clean: true,
      protocolVersion: 4,
      keepalive: 30,
      reconnectPeriod: 5_000,
      connectTimeout: 10_000,
      reconnectOnConnackError: true,
      resubscribe: false,
      username: "addons",
      password: "pw",
      will: { topic: "energy_bridge/bridge/state", qos: 1, retain: true },
    });
    expect(String(o.will!.payload)).toBe("offline");
    expect("username" in clientOptions({ url: B.url, protocolVersion: 3 }, "c", "t", { keepaliveSeconds: 5 })).toBe(false);
    expect(clientOptions({ url: B.url, protocolVersion: 3 }, "c", "t", { keepaliveSeconds: 5 }).keepalive).toBe(5);
  });
});

describe("brokerErrorMessage", () => {
  it("reads like a sentence and never shows the password", () => {
    expect(brokerErrorMessage(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), B)).toBe(
      "cannot reach the MQTT broker at mqtt://core-mosquitto:1883 as addons: connection refused",
    );
    expect(brokerErrorMessage(Object.assign(new Error("Connection refused: Not authorized"), { code: 5 }), B)).toBe(
      "the MQTT broker at mqtt://core-mosquitto:1883 as addons refused the credentials (Connection refused: Not authorized)",
    );
    expect(brokerErrorMessage(new Error("boom"), B)).toBe("MQTT broker mqtt://core-mosquitto:1883 as addons: boom");
    for (const m of [brokerErrorMessage({ code: 4 }, B), brokerErrorMessage("x", B)]) expect(m).not.toContain("pw");
  });
});

describe("withTimeout", () => {
  it("rejects with a readable message after the delay", async () => {
    await expect(withTimeout(new Promise(() => undefined), 10, "publishing a/b")).rejects.toThrow("publishing a/b: no answer from the broker within 10 ms");
    await expect(withTimeout(Promise.resolve(1), 10, "x")).resolves.toBe(1);
  });

  it("the service's pino logger fits PublisherLog", () => {
    const log: PublisherLog = createLogger("silent");
    expect(typeof log.warn).toBe("function");
  });
});
