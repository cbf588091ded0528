/**
 * The Mosquitto test harness (test/helpers/mosquitto.ts) is sure the broker it hands out is its
 * own: a port someone else already listens on is refused (a plain TCP server there accepts the
 * harness's connect probe, so the probe alone would have taken it for the broker), and a harness
 * broker answers MQTT with retained messages kept across its restart.
 */
import { createServer, type Server } from "node:net";
import mqtt from "mqtt";
import { afterAll, expect, it } from "vitest";
import { describeWithMosquitto, startMosquitto } from "../helpers/mosquitto.js";

describeWithMosquitto("Mosquitto test harness", () => {
  const servers: Server[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });

  it("refuses a fixed port another server already listens on, naming the bind error", async () => {
    const squatter = createServer((sock) => sock.destroy());
    servers.push(squatter);
    await new Promise<void>((r) => squatter.listen(0, "127.0.0.1", r));
    const port = (squatter.address() as { port: number }).port;
    await expect(startMosquitto({ port })).rejects.toThrow(/Address already in use/);
  });

  it("hands out a broker of its own that keeps retained messages across a restart", async () => {
    const broker = await startMosquitto();
    try {
      const a = await mqtt.connectAsync(broker.url, { clientId: "eb_harness_a" });
      await a.publishAsync("eb/harness/retained", "kept", { qos: 1, retain: true });
      await a.endAsync();
      await broker.restart();
      const b = await mqtt.connectAsync(broker.url, { clientId: "eb_harness_b" });
      const got = new Promise<string>((r) => b.on("message", (_t, p) => r(p.toString())));
      await b.subscribeAsync("eb/harness/retained", { qos: 1 });
      expect(await got).toBe("kept");
      await b.endAsync();
      expect(broker.log()).toMatch(/mosquitto version \S+ running/);
    } finally {
      await broker.stop();
    }
  });
});
