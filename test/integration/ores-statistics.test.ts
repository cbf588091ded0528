/**
 * Ores through the Linky path against a real Home Assistant Core: the annex C simulator serving
 * the real Sceaux 2008 30-min series (as a Belgian meter), an `ores` meter in the options, the
 * energy module's cycle → statistic `energy_bridge:ores_<ean>_consumption` with the Linky
 * guarantees (per-day sums = data, no negative hour, idempotent, bad input loses nothing).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { DateTime } from "luxon";
import { describeWithHA, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../helpers/dataset.js";
import { continuityErrors, haRows, testService, testSettings, type Service } from "../helpers/service-fixture.js";
import type { ProviderSimulator } from "../helpers/provider-simulator.js";
import { startOresSimulator, type OresSimulator } from "../helpers/simulator/ores.js";
import { addGridConsumption, energyIssuesFor } from "../../src/homeassistant/energy-prefs.js";

const ZONE = "Europe/Brussels";

describeWithHA("Ores annex C load curves in a real Home Assistant", () => {
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let sim: OresSimulator;
  let service: Service & { dispose(): void };
  const clock = Date.now();
  const csv = loadHalfHourSeries(SCEAUX_2008_30MIN);

  beforeAll(async () => {
    ha = await startHomeAssistant();
    sim = await startOresSimulator({ series: csv, now: () => clock });
    const settings = testSettings(ha, sim as unknown as ProviderSimulator, {
      meters: [{ provider: "ores", prm: sim.prm, token: sim.token, baseUrl: sim.baseUrl, name: "Ores test", production: "off" }],
    });
    service = await testService(settings, () => clock);
  });
  afterAll(async () => {
    service?.dispose();
    await sim?.close();
    await ha?.stop();
  });

  /** Wh per Brussels day straight from the dataset, shifted like the simulator. */
  function expectedPerDay(): Map<string, number> {
    const out = new Map<string, number>();
    for (const p of csv) {
      if (p.wh === null) continue;
      const day = DateTime.fromMillis(p.start + sim.shiftMs, { zone: ZONE }).toISODate()!;
      out.set(day, (out.get(day) ?? 0) + p.wh);
    }
    return out;
  }

  it("imports the whole curve: statistic ores_<ean>_consumption, per-day sums equal the data, no negative hour", async () => {
    const [summary] = await service.runCycle();
    expect(summary!.status, summary!.error ?? "").toBe("ok");
    const sid = service.jobs[0]!.statistic.statisticId;
    expect(sid).toBe(`energy_bridge:ores_${sim.prm}_consumption`);
    const rows = await haRows(service.link.connection, sid);
    expect(rows.length).toBeGreaterThan(8000);
    expect(continuityErrors(rows)).toEqual([]);
    const got = new Map<string, number>();
    for (const r of rows) {
      const d = DateTime.fromMillis(r.start, { zone: ZONE }).toISODate()!;
      got.set(d, (got.get(d) ?? 0) + r.state * 1000);
    }
    const wrong = [...expectedPerDay()].filter(([d, wh]) => Math.abs((got.get(d) ?? 0) - wh) > 1).slice(0, 5);
    expect(wrong).toEqual([]);
  }, 600_000);

  it("a re-run changes nothing; energy/validate accepts it as a grid source", async () => {
    const sid = service.jobs[0]!.statistic.statisticId;
    const before = await haRows(service.link.connection, sid);
    const [again] = await service.runCycle();
    expect([again!.status, again!.rowsSent, again!.adjustments]).toEqual(["ok", 0, 0]);
    expect(await haRows(service.link.connection, sid)).toEqual(before);
    await addGridConsumption(service.link.connection, service.link.haVersion, sid);
    expect(await energyIssuesFor(service.link.connection, sid)).toEqual([]);
  }, 300_000);

  it("malformed JSON, a negative load and an expired token: clear errors, nothing stored from them, nothing lost", async () => {
    const sid = service.jobs[0]!.statistic.statisticId;
    const before = await haRows(service.link.connection, sid);
    sim.fail(200, "{ not json");
    const [bad] = await service.runCycle();
    expect(bad!.status).toBe("error");
    expect(bad!.error).toMatch(/malformed JSON/);
    const yesterday = DateTime.fromMillis(clock, { zone: ZONE }).startOf("day").minus({ days: 1 });
    const slot = yesterday.plus({ hours: 3 }).toUTC();
    sim.fail(
      200,
      JSON.stringify({
        usage_point_id: sim.prm,
        reading_type: { unit: "Wh", aggregate: "Sum", measuring_period: "PT30M" },
        interval_readings: [{ value: -500, start: slot.toISO(), end: slot.plus({ minutes: 30 }).toISO() }],
      }),
    );
    const [neg] = await service.runCycle();
    expect(neg!.rejected).toBe(1);
    sim.fail(401, JSON.stringify({ error: "invalid_token", error_description: "The access token expired" }));
    const [expired] = await service.runCycle();
    expect(expired!.status).toBe("auth_error");
    expect(expired!.error).toMatch(/reconnect the Ores account/);
    expect(await haRows(service.link.connection, sid)).toEqual(before);
  }, 300_000);
});
