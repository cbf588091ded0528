/**
 * The statistics writer's metadata shape, as the real Home Assistant stores and reports it.
 *
 * `importMetadata` (src/homeassistant/statistics.ts) sends `has_mean` to cores before 2025.11 and
 * `mean_type` + `unit_class` from 2025.11. Runs once per pinned release (vitest projects
 * integration-ha2025.4 / integration-ha2026.2): on 2025.4.4 the old shape must be accepted and
 * read back with has_mean false; on 2026.2.3 the new shape must be stored with
 * `unit_class: "energy"` / `"volume"` — never null, which hides a statistic from the Energy
 * dashboard's pickers — `mean_type` 0 (none) and `has_sum`, without the deprecation warning.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectHomeAssistant, haVersionAtLeast, type HaLink } from "../../src/homeassistant/connection.js";
import { importMetadata, importRows, waitForRow, type StatisticMeta } from "../../src/homeassistant/statistics.js";
import { addGridConsumption, energyIssuesFor } from "../../src/homeassistant/energy-prefs.js";
import { describeWithHA, HA_VERSION, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";

const HOUR = 3_600_000;

interface ListedStatistic {
  statistic_id: string;
  source: string;
  name: string | null;
  has_sum: boolean;
  has_mean?: boolean;
  mean_type?: number;
  unit_class?: string | null;
  statistics_unit_of_measurement: string | null;
  display_unit_of_measurement?: string | null;
}

const ELECTRICITY: StatisticMeta = {
  statisticId: "energy_bridge:linky_09999999999999_consumption",
  name: "Linky 09999999999999 consumption",
  unit: "kWh",
  unitClass: "energy",
};
const GAS: StatisticMeta = {
  statisticId: "energy_bridge:ecolyo_meta_test_gas",
  name: "Ecolyo gas",
  unit: "m³",
  unitClass: "volume",
};

describeWithHA("statistics metadata shape in a real Home Assistant", () => {
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let link: HaLink;
  const newShape = haVersionAtLeast(HA_VERSION, 2025, 11);

  beforeAll(async () => {
    ha = await startHomeAssistant();
    link = await connectHomeAssistant({ wsUrl: ha.wsUrl, token: ha.token, keepAliveMs: 0 });
    // Three hours ending at the last full hour, for each statistic.
    const end = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    for (const meta of [ELECTRICITY, GAS]) {
      const rows = [0, 1, 2].map((i) => ({ start: end - (2 - i) * HOUR, state: 1.5, sum: 1.5 * (i + 1) }));
      await importRows(link.connection, meta, link.haVersion, rows);
      await waitForRow(link.connection, meta, rows.at(-1)!);
    }
  });
  afterAll(async () => {
    link?.close();
    await ha?.stop();
  });

  it(`sends the ${newShape ? "mean_type + unit_class" : "has_mean"} shape to HA ${HA_VERSION}`, () => {
    expect(link.haVersion).toBe(HA_VERSION);
    const sent = importMetadata(ELECTRICITY, link.haVersion);
    if (newShape) {
      expect(sent).toMatchObject({ mean_type: 0, unit_class: "energy", has_sum: true });
      expect(sent).not.toHaveProperty("has_mean");
    } else {
      expect(sent).toMatchObject({ has_mean: false, has_sum: true });
      expect(sent).not.toHaveProperty("mean_type");
      expect(sent).not.toHaveProperty("unit_class");
    }
  });

  it("recorder/list_statistic_ids reports the stored metadata (unit_class never null on new cores)", async () => {
    const listed = await link.connection.sendMessagePromise<ListedStatistic[]>({
      type: "recorder/list_statistic_ids",
      statistic_type: "sum",
    });
    const byId = new Map(listed.map((s) => [s.statistic_id, s]));
    console.info(`[statistics-metadata] HA ${HA_VERSION} list_statistic_ids: ${JSON.stringify(byId.get(ELECTRICITY.statisticId))}`);
    for (const meta of [ELECTRICITY, GAS]) {
      const s = byId.get(meta.statisticId);
      expect(s, `${meta.statisticId} listed`).toBeDefined();
      expect(s).toMatchObject({
        source: "energy_bridge",
        name: meta.name,
        has_sum: true,
        statistics_unit_of_measurement: meta.unit,
      });
      if (newShape) {
        expect(s!.unit_class, `${meta.statisticId} unit_class`).toBe(meta.unitClass);
        expect(s!.mean_type).toBe(0);
        expect(s!.has_mean).toBe(false);
      } else {
        expect(s!.has_mean).toBe(false);
        // 2025.4 already reports a mean_type derived from has_mean (core PR #138453).
        if (s!.mean_type !== undefined) expect(s!.mean_type).toBe(0);
      }
    }
  });

  it("recorder/get_statistics_metadata agrees", async () => {
    const got = await link.connection.sendMessagePromise<ListedStatistic[]>({
      type: "recorder/get_statistics_metadata",
      statistic_ids: [ELECTRICITY.statisticId, GAS.statisticId],
    });
    expect(got.map((s) => s.statistic_id).sort()).toEqual([GAS.statisticId, ELECTRICITY.statisticId].sort());
    for (const s of got) {
      const meta = s.statistic_id === GAS.statisticId ? GAS : ELECTRICITY;
      expect(s).toMatchObject({ has_sum: true, source: "energy_bridge", statistics_unit_of_measurement: meta.unit });
      if (newShape) {
        expect(s.unit_class).toBe(meta.unitClass);
        expect(s.unit_class).not.toBeNull();
        expect(s.mean_type).toBe(0);
      } else {
        expect(s.has_mean).toBe(false);
      }
    }
  });

  it("HA logged no metadata deprecation warning and the Energy dashboard accepts the statistic", async () => {
    expect(ha.log()).not.toMatch(/import_statistics called without specifying (mean_type|unit_class)/);
    expect(await addGridConsumption(link.connection, link.haVersion, ELECTRICITY.statisticId)).toBe(true);
    expect(await energyIssuesFor(link.connection, ELECTRICITY.statisticId)).toEqual([]);
  });
});
