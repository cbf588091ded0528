import { describe, expect, it } from "vitest";
import { brokerFromSupervisor, brokerFromUrl, describeBroker, resolveBroker } from "../../../../src/homeassistant/entities/broker.js";

type Call = { url: string; auth: string | null };
function fakeFetch(status: number, body: unknown, calls: Call[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(input), auth: new Headers(init?.headers).get("authorization") });
    return new Response(typeof body === "string" ? body : JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
}

describe("resolveBroker", () => {
  it("under the Supervisor: GET /services/mqtt with the bearer token, mapped to MQTT.js settings", async () => {
    const calls: Call[] = [];
    const r = await resolveBroker({
      supervisorToken: "tok",
      fetch: fakeFetch(200, { result: "ok", data: { host: "core-mosquitto", port: 1883, ssl: false, protocol: "3.1.1", username: "addons", password: "pw", addon: "core_mosquitto" } }, calls),
    });
    expect(calls).toEqual([{ url: "http://supervisor/services/mqtt", auth: "Bearer tok" }]);
    expect(r).toEqual({ kind: "broker", source: "supervisor", settings: { url: "mqtt://core-mosquitto:1883", username: "addons", password: "pw", protocolVersion: 4 } });
  });

  it("ssl → mqtts, protocol 3.1 → v3, no credentials when absent", async () => {
    const r = await resolveBroker({ supervisorToken: "t", fetch: fakeFetch(200, { data: { host: "b", port: 8883, ssl: true, protocol: "3.1" } }) });
    expect(r).toEqual({ kind: "broker", source: "supervisor", settings: { url: "mqtts://b:8883", protocolVersion: 3 } });
  });

  it("no MQTT service (400/403/404) → none, with the Supervisor's message", async () => {
    for (const status of [400, 403, 404]) {
      const r = await resolveBroker({ supervisorToken: "t", fetch: fakeFetch(status, { result: "error", message: "Service not enabled" }) });
      expect(r).toEqual({ kind: "none", reason: `the Supervisor offers no MQTT broker (HTTP ${status}: Service not enabled)` });
    }
  });

  it("Supervisor errors never throw", async () => {
    expect(await resolveBroker({ supervisorToken: "t", fetch: fakeFetch(502, "bad gateway") })).toEqual({
      kind: "error",
      reason: "the Supervisor answered HTTP 502 on http://supervisor/services/mqtt",
      retryable: true,
    });
    const down = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    expect(await resolveBroker({ supervisorToken: "t", fetch: down })).toMatchObject({ kind: "error", retryable: true, reason: expect.stringContaining("fetch failed") });
    expect(await resolveBroker({ supervisorToken: "t", fetch: fakeFetch(200, { data: { port: 1883 } }) })).toMatchObject({ kind: "error", retryable: false });
  });

  it("the mqtt_url option wins, also under the Supervisor; credentials leave the URL", async () => {
    const r = await resolveBroker({
      supervisorToken: "t",
      fetch: fakeFetch(500, "never called"),
      options: { mqtt_url: "mqtt://u%40x:p%3Aw@192.168.1.5" },
    });
    expect(r).toEqual({ kind: "broker", source: "options", settings: { url: "mqtt://192.168.1.5:1883", username: "u@x", password: "p:w", protocolVersion: 4 } });
    expect(await resolveBroker({ options: { mqtt_url: "mqtts://b", mqtt_username: "me", mqtt_password: "secret" } })).toEqual({
      kind: "broker",
      source: "options",
      settings: { url: "mqtts://b:8883", username: "me", password: "secret", protocolVersion: 4 },
    });
  });

  it("standalone without mqtt_url → none; a bad URL → error", async () => {
    expect(await resolveBroker({ options: { mqtt_url: " " } })).toEqual({ kind: "none", reason: "no mqtt_url option and not running under the Supervisor" });
    expect(await resolveBroker({ options: { mqtt_url: "http://x" } })).toMatchObject({ kind: "error", retryable: false, reason: expect.stringContaining("mqtt://") });
    expect(brokerFromUrl("not a url")).toMatchObject({ kind: "error" });
  });
});

describe("helpers", () => {
  it("brackets IPv6 hosts; describeBroker hides the password", () => {
    expect(brokerFromSupervisor({ host: "fd00::1", port: 1883 }).url).toBe("mqtt://[fd00::1]:1883");
    expect(describeBroker({ url: "mqtt://h:1883", username: "u", password: "p", protocolVersion: 4 })).toBe("mqtt://h:1883 as u");
    expect(brokerFromUrl("ws://h:9001/mqtt")).toMatchObject({ settings: { url: "ws://h:9001/mqtt" } });
  });
});
