/**
 * A store holding the three-year 30-min series (test/helpers/dataset.ts loadThreeYearSeries, real
 * Sceaux household data repeated with 52-week shifts) for one Linky meter, and the dashboard API
 * mounted on a bare fastify instance, for the unit tests.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { Meter, Reading } from "../../../src/domain/types.js";
import { dashboardApi, type DashboardApiDeps } from "../../../src/modules/dashboard/api.js";
import { openStore, type Db } from "../../../src/store/db.js";
import { upsertMeter } from "../../../src/store/meters.js";
import { upsertReadings } from "../../../src/store/readings.js";
import { loadThreeYearSeries, type HalfHourPoint } from "../../helpers/dataset.js";

export const PRM = "12345678901234";

export const LINKY: Meter = {
  id: PRM,
  provider: "conso_api",
  kind: "electricity",
  unit: "Wh",
  timezone: "Europe/Paris",
  name: `Linky ${PRM}`,
};

/** The series, shifted by `shiftMs` (a whole number of weeks keeps weekdays). */
export function series(shiftMs = 0): HalfHourPoint[] {
  return loadThreeYearSeries().map((p) => ({ start: p.start + shiftMs, wh: p.wh }));
}

/** Non-null points as readings. */
export function toReadings(points: readonly HalfHourPoint[]): Reading[] {
  return points.filter((p) => p.wh !== null).map((p) => ({ start: p.start, durationMs: 1_800_000, value: p.wh!, quality: "BRUT" }));
}

/** A fresh in-memory store with the meter and its readings. */
export function storeWith(points: readonly HalfHourPoint[], meter: Meter = LINKY): Db {
  const db = openStore(":memory:");
  upsertMeter(db, meter, 0);
  upsertReadings(db, meter.id, toReadings(points));
  return db;
}

/** The API on a bare fastify app (not listening; use `inject`). */
export async function apiApp(deps: DashboardApiDeps): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(dashboardApi(deps));
  await app.ready();
  return app;
}
