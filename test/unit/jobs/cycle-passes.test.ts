/**
 * The parts of a cycle that decide how many requests are spent: the refused-request streak, the
 * production probe and the max-power pass, against a scripted provider (fast edge cases; the real
 * gateways' contracts are covered by the provider and integration tests).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DateTime } from "luxon";
import { ProviderError } from "../../../src/domain/errors.js";
import type { FetchRange, FetchResult, MaxPowerResult, Meter, Provider, RequestGate } from "../../../src/domain/types.js";
import { fetchMeter, MAX_NON_RETRYABLE_IN_A_ROW } from "../../../src/jobs/fetch-meter.js";
import { fetchMaxPower } from "../../../src/jobs/fetch-max-power.js";
import { productionEnabled, PRODUCTION_REPROBE_DAYS } from "../../../src/jobs/production-probe.js";
import { createLogger } from "../../../src/log.js";
import { openStore, type Db } from "../../../src/store/db.js";
import { latestMaxPower, maxPowerDays } from "../../../src/store/max-power.js";
import { upsertMeter } from "../../../src/store/meters.js";
import { createRequestGate, effectiveDailyBudget } from "../../../src/store/request-budget.js";
import { METER } from "../store/helpers.js";

const ZONE = "Europe/Paris";
const NOW = Date.parse("2026-11-20T08:30:00Z");
const log = createLogger("silent");
const PRODUCTION: Meter = { ...METER, id: `${METER.id}_production`, usagePoint: METER.id, flow: "production" };

/** A provider whose answers are scripted per call; it records every range asked. */
function scripted(answer: (range: FetchRange, call: number) => FetchResult, maxPower?: (r: { start: string; end: string }) => MaxPowerResult): Provider & { calls: FetchRange[]; mpCalls: { start: string; end: string }[] } {
  const calls: FetchRange[] = [];
  const mpCalls: { start: string; end: string }[] = [];
  return {
    id: "conso_api",
    calls,
    mpCalls,
    capabilities: {
      kinds: ["electricity"],
      flows: ["consumption", "production"],
      resolutions: { daily: { maxDaysPerCall: 365, historyDays: 1110 }, load_curve: { maxDaysPerCall: 7, historyDays: 745 } },
      maxPower: { maxDaysPerCall: 365, historyDays: 1110 },
      dailyBudget: 20,
      hardDailyCap: 45,
      timezone: ZONE,
      scheduleWindow: ["06:00", "10:00"],
    },
    async fetch(_m: Meter, range: FetchRange, gate: RequestGate) {
      gate.acquire();
      calls.push(range);
      return answer(range, calls.length);
    },
    ...(maxPower
      ? {
          async fetchMaxPower(_m: Meter, range: { start: string; end: string }, gate: RequestGate) {
            gate.acquire();
            mpCalls.push(range);
            return maxPower(range);
          },
        }
      : {}),
  };
}

let db: Db;
beforeEach(() => {
  db = openStore(":memory:");
  upsertMeter(db, METER, 1);
  upsertMeter(db, PRODUCTION, 1);
});
afterEach(() => db.close());

const gate = (limit = 500) => createRequestGate(db, { providerKey: "k", limit, timezone: ZONE, now: () => NOW });

describe("a run of refused requests stops the cycle", () => {
  it("ten identical 400s: the cycle stops after a few calls and keeps the rest for later", async () => {
    const p = scripted(() => {
      throw new ProviderError("bad_request", "Paramètres invalides", { status: 400 });
    });
    const out = await fetchMeter(db, METER, p, gate(), { now: () => NOW, log });
    expect(p.calls).toHaveLength(MAX_NON_RETRYABLE_IN_A_ROW);
    expect(out.requests).toBe(MAX_NON_RETRYABLE_IN_A_ROW);
    expect(out.status).toBe("error");
    expect(out.error).toMatch(/stopped after 3 refused requests in a row/);
    expect(out.remaining).toBeGreaterThan(100); // the whole history is still planned
  });

  it("a refusal between good answers does not stop it", async () => {
    const p = scripted((range, call) => {
      if (call % 2 === 0) throw new ProviderError("invalid_response", "malformed JSON", { status: 200 });
      return { readings: [], rejected: [], endOfHistory: false, ...{ range } };
    });
    const out = await fetchMeter(db, METER, p, gate(30), { now: () => NOW, log });
    expect(p.calls.length).toBe(30); // ran until the budget, not stopped by isolated refusals
    expect(out.status).toBe("partial");
  });
});

describe("request budget", () => {
  it("an option above the provider's hard cap is clamped; absent, the provider's default applies", () => {
    expect(effectiveDailyBudget({ dailyBudget: 20, hardDailyCap: 45 }, 200)).toEqual({ limit: 45, clamped: true });
    expect(effectiveDailyBudget({ dailyBudget: 20, hardDailyCap: 45 }, undefined)).toEqual({ limit: 20, clamped: false });
    expect(effectiveDailyBudget({ dailyBudget: 20, hardDailyCap: 45 }, 10)).toEqual({ limit: 10, clamped: false });
  });

  it("a gate at the cap stops a backfill that asks for more at exactly the cap", async () => {
    const p = scripted(() => ({ readings: [], rejected: [], endOfHistory: false }));
    const { limit } = effectiveDailyBudget(p.capabilities, 500);
    const out = await fetchMeter(db, METER, p, gate(limit), { now: () => NOW, log });
    expect(p.calls).toHaveLength(45);
    expect(out.status).toBe("partial");
  });
});

describe("production probe (production: auto)", () => {
  const day = (d: string, wh: number) => ({ start: DateTime.fromISO(d, { zone: ZONE }).toMillis(), durationMs: 86_400_000, value: wh, quality: null });

  it("a meter with production: one request, remembered (no further request)", async () => {
    const p = scripted(() => ({ readings: [day("2026-11-10", 0), day("2026-11-11", 5_400)], rejected: [], endOfHistory: false }));
    expect(await productionEnabled(db, "auto", PRODUCTION, p, gate(), { now: () => NOW, log })).toBe(true);
    expect(await productionEnabled(db, "auto", PRODUCTION, p, gate(), { now: () => NOW + 86_400_000, log })).toBe(true);
    expect(p.calls).toHaveLength(1);
    expect(p.calls[0]).toMatchObject({ resolution: "daily", end: "2026-11-20" });
  });

  it("no production (404 / only zeros / refused): no, asked again only after the re-probe delay", async () => {
    for (const answer of [
      () => ({ readings: [], rejected: [], endOfHistory: true }),
      () => ({ readings: [day("2026-11-11", 0)], rejected: [], endOfHistory: false }),
      () => {
        throw new ProviderError("auth", "Le client n'est pas titulaire du point demandé", { status: 403 });
      },
    ]) {
      db.prepare(`DELETE FROM kv`).run();
      const p = scripted(answer);
      expect(await productionEnabled(db, "auto", PRODUCTION, p, gate(), { now: () => NOW, log })).toBe(false);
      expect(await productionEnabled(db, "auto", PRODUCTION, p, gate(), { now: () => NOW + 30 * 86_400_000, log })).toBe(false);
      expect(p.calls).toHaveLength(1);
      await productionEnabled(db, "auto", PRODUCTION, p, gate(), { now: () => NOW + (PRODUCTION_REPROBE_DAYS + 1) * 86_400_000, log });
      expect(p.calls).toHaveLength(2);
    }
  });

  it("a transient failure leaves it undecided; on/off never spend a request", async () => {
    const p = scripted(() => {
      throw new ProviderError("unavailable", "HTTP 503");
    });
    expect(await productionEnabled(db, "auto", PRODUCTION, p, gate(), { now: () => NOW, log })).toBe(false);
    expect(await productionEnabled(db, "auto", PRODUCTION, p, gate(), { now: () => NOW, log })).toBe(false);
    expect(p.calls).toHaveLength(2);
    expect(await productionEnabled(db, "on", PRODUCTION, p, gate(), { now: () => NOW, log })).toBe(true);
    expect(await productionEnabled(db, "off", PRODUCTION, p, gate(), { now: () => NOW, log })).toBe(false);
    expect(p.calls).toHaveLength(2);
  });
});

describe("daily max power", () => {
  /** A peak of 3000 + day-of-month × 10 VA at 19:00 local on every day of the range. */
  const peaks = (r: { start: string; end: string }): MaxPowerResult => {
    const points = [];
    for (let d = DateTime.fromISO(r.start, { zone: ZONE }); d.toISODate()! < r.end; d = d.plus({ days: 1 })) {
      if (d.toISODate()! < "2024-06-01") continue;
      points.push({ day: d.toISODate()!, valueVa: 3000 + d.day * 10, at: d.set({ hour: 19 }).toMillis() });
    }
    return { points, rejected: [], endOfHistory: points.length === 0 };
  };

  it("backfills the whole history in a few calls, then one small call a day", async () => {
    const p = scripted(() => ({ readings: [], rejected: [], endOfHistory: false }), peaks);
    const first = await fetchMaxPower(db, METER, p, gate(), { now: () => NOW, log });
    expect(first.requests).toBe(4); // 1110 days in ≤ 365-day calls; the oldest says "nothing before"
    expect(maxPowerDays(db, METER.id, "2024-06-01", "2026-11-20").size).toBe(
      Math.round((Date.parse("2026-11-20") - Date.parse("2024-06-01")) / 86_400_000),
    );
    expect(latestMaxPower(db, METER.id)).toEqual({ day: "2026-11-19", valueVa: 3190, at: DateTime.fromISO("2026-11-19T19:00", { zone: ZONE }).toMillis() });
    const next = await fetchMaxPower(db, METER, p, gate(), { now: () => NOW + 86_400_000, log });
    expect(next.requests).toBe(1);
    expect(p.mpCalls.at(-1)).toEqual({ start: "2026-11-19", end: "2026-11-21" });
  });

  it("a production series or a provider without max power costs nothing", async () => {
    const p = scripted(() => ({ readings: [], rejected: [], endOfHistory: false }), peaks);
    expect((await fetchMaxPower(db, PRODUCTION, p, gate(), { now: () => NOW, log })).requests).toBe(0);
    const none = scripted(() => ({ readings: [], rejected: [], endOfHistory: false }));
    expect((await fetchMaxPower(db, METER, none, gate(), { now: () => NOW, log })).requests).toBe(0);
  });
});
