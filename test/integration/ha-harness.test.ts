import { createServer } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectHomeAssistant, HomeAssistantConnectionError, type HaLink } from "../../src/homeassistant/connection.js";
import { describeWithHA, HA_VERSION, HA_VERSIONS, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";

const waitUntil = async (cond: () => boolean, timeoutMs: number, what: string) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describeWithHA("HA harness + connection against a real Home Assistant", () => {
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let link: HaLink | undefined;
  let ready = 0;
  let disconnected = 0;

  beforeAll(async () => {
    ha = await startHomeAssistant();
    console.info(`[ha-harness] HA ${ha.version} up at ${ha.url}: ${JSON.stringify(ha.timings)}`);
  });

  afterAll(async () => {
    link?.close();
    await ha?.stop();
  });

  it("refuses to start on a port another server already listens on, quoting HA's log line", async () => {
    // Without this, the harness would poll the other server and, for a harness HA there, use it.
    const squatter = createServer((sock) => sock.destroy());
    await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", r));
    try {
      const port = (squatter.address() as { port: number }).port;
      await expect(startHomeAssistant({ port })).rejects.toThrow(new RegExp(`Failed to create HTTP server at port ${port}`));
    } finally {
      squatter.close();
    }
  }, 180_000);

  it("gives a working admin long-lived token (REST /api/config)", async () => {
    const res = await fetch(`${ha.url}/api/config`, { headers: { authorization: `Bearer ${ha.token}` } });
    expect(res.status).toBe(200);
    const config = (await res.json()) as { time_zone: string; version: string; currency: string; components: string[] };
    expect(config.time_zone).toBe("Europe/Paris");
    expect(config.version).toBe(HA_VERSION);
    expect(config.currency).toBe("EUR");
    expect(config.components).toEqual(expect.arrayContaining(["recorder", "energy", "history", "frontend"]));
    expect(config.components).not.toContain("recovery_mode");
  });

  it(`runs the release the project asks for (HA_VERSION=${process.env.HA_VERSION ?? "unset"}), onboarded except core_config`, async () => {
    expect(HA_VERSIONS).toContain(HA_VERSION);
    if (process.env.HA_VERSION) expect(HA_VERSION).toBe(process.env.HA_VERSION);
    // Same four steps on 2025.4 and 2026.2 (core onboarding/const.py STEPS).
    const res = await fetch(`${ha.url}/api/onboarding`);
    const steps = (await res.json()) as { step: string; done: boolean }[];
    expect(Object.fromEntries(steps.map((s) => [s.step, s.done]))).toEqual({
      user: true,
      core_config: false,
      analytics: true,
      integration: true,
    });
  });

  it("connectHomeAssistant authenticates, reports haVersion and runs recorder commands", async () => {
    link = await connectHomeAssistant({
      wsUrl: ha.wsUrl,
      token: ha.token,
      onReady: () => ready++,
      onDisconnected: () => disconnected++,
    });
    expect(link.haVersion).toBe(HA_VERSION);
    expect(ready).toBe(1);
    const ids = await link.connection.sendMessagePromise<unknown[]>({
      type: "recorder/list_statistic_ids",
      statistic_type: "sum",
    });
    expect(Array.isArray(ids)).toBe(true);
    const user = await link.connection.sendMessagePromise<{ is_admin: boolean }>({ type: "auth/current_user" });
    expect(user.is_admin).toBe(true);
  });

  it("rejects a bad token with a clear auth_invalid error", async () => {
    const err = await connectHomeAssistant({ wsUrl: ha.wsUrl, token: "not-a-token" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HomeAssistantConnectionError);
    expect((err as HomeAssistantConnectionError).code).toBe("invalid_auth");
    expect((err as Error).message).toMatch(/rejected the access token \(auth_invalid\)/);
  });

  it("reconnects by itself after HA restarts and fires onReady again", async () => {
    const l = link!;
    await ha.restart();
    await waitUntil(() => ready >= 2, 30_000, "onReady after restart");
    expect(disconnected).toBeGreaterThanOrEqual(1);
    expect(l.connection.connected).toBe(true);
    const ids = await l.connection.sendMessagePromise<unknown[]>({ type: "recorder/list_statistic_ids" });
    expect(Array.isArray(ids)).toBe(true);
    // The long-lived token survives the restart on REST too.
    const res = await fetch(`${ha.url}/api/`, { headers: { authorization: `Bearer ${ha.token}` } });
    expect(res.status).toBe(200);
  });
});
