/**
 * Ecolyo end to end against a real Home Assistant Core: the Cozy account connected through the
 * real flow (dynamic registration, PKCE, code exchange) against the Cozy simulator serving real
 * data (Sceaux 2008 electricity, AMPds2 gas and water, test/helpers/simulator/cozy-data.ts), then
 * the Ecolyo module's cycle: provider → store → analysis → HA long-term statistics.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DateTime } from "luxon";
import type { Connection } from "home-assistant-js-websocket";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createCozyFlow } from "../../src/auth/flows/cozy.js";
import { createOAuthStateStore } from "../../src/auth/oauth-state.js";
import { TokenVault } from "../../src/auth/token-vault.js";
import { addGasSource, addGridConsumption, addWaterSource, energyIssuesFor } from "../../src/homeassistant/energy-prefs.js";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { EcolyoModule } from "../../src/modules/ecolyo/ecolyo-module.js";
import type { Settings } from "../../src/settings.js";
import { describeWithHA, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { continuityErrors, haSettings } from "../helpers/service-fixture.js";
import { ecolyoDocsFromData, type EcolyoSimDoc } from "../helpers/simulator/cozy-data.js";
import { startCozySimulator, type CozySimulator } from "../helpers/simulator/cozy.js";
import { waitFor } from "../helpers/wait.js";
import { getAccount } from "../../src/store/accounts.js";

const ZONE = "Europe/Paris";
const UNITS = { electricity: { energy: "kWh" }, gas: { energy: "kWh" }, water: { volume: "L" } } as const;

describeWithHA("Ecolyo electricity, gas and water in a real Home Assistant", () => {
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let sim: CozySimulator;
  let app: App;
  let ecolyo: EcolyoModule;
  let settings: Settings;
  let vault: TokenVault;
  const clock = Date.now();
  const docs = ecolyoDocsFromData(clock);
  const log = createLogger((process.env.EB_LOG as "info" | undefined) ?? "silent");

  beforeAll(async () => {
    ha = await startHomeAssistant();
    sim = await startCozySimulator({ docs, now: () => clock });
    const key = randomBytes(32).toString("hex");
    settings = haSettings(ha, { vaultKey: key }, "ecolyo");
    ecolyo = new EcolyoModule({ schedule: false });
    app = await startApp(settings, {
      log,
      now: () => clock,
      providerRuntime: { retry: { minTimeout: 5, maxTimeout: 20, retries: 1 } },
      extraModules: [ecolyo],
    });
    vault = new TokenVault(app.db, Buffer.from(key, "hex"), { now: () => clock });
  });
  afterAll(async () => {
    await app?.stop();
    await sim?.close();
    await ha?.stop();
    if (settings) rmSync(settings.dataDir, { recursive: true, force: true });
  });

  const conn = (): Connection => app.ha.connection;
  const rowsOf = async (sid: string, units: Record<string, string>) => {
    const res = await conn().sendMessagePromise<Record<string, { start: number; state: number; sum: number }[]>>({
      type: "recorder/statistics_during_period",
      start_time: "2000-01-01T00:00:00Z",
      end_time: "2100-01-01T00:00:00Z",
      statistic_ids: [sid],
      period: "hour",
      types: ["state", "sum"],
      units,
    });
    return res[sid] ?? [];
  };
  const perParisDay = (rows: { start: number; state: number }[]) => {
    const out = new Map<string, number>();
    for (const r of rows) {
      const d = DateTime.fromMillis(r.start, { zone: ZONE }).toISODate()!;
      out.set(d, (out.get(d) ?? 0) + r.state);
    }
    return out;
  };
  const date = (d: EcolyoSimDoc) => `${d.year}-${String(d.month).padStart(2, "0")}-${String(d.day).padStart(2, "0")}`;
  /** Per-day totals straight from the served docs (electricity: the day doc, else its half hours, stamped at their end). */
  function expected(kind: "electricity" | "gas" | "water"): Map<string, number> {
    const out = new Map<string, number>();
    const doctype = { electricity: "com.grandlyon.enedis.day", gas: "com.grandlyon.grdf.day", water: "com.grandlyon.egl.day" }[kind];
    for (const d of docs[doctype] as EcolyoSimDoc[]) out.set(date(d), d.load);
    if (kind === "electricity") {
      const partial = new Map<string, number>();
      for (const d of docs["com.grandlyon.enedis.minute"] as EcolyoSimDoc[]) {
        const end = DateTime.fromObject({ year: d.year, month: d.month, day: d.day, hour: d.hour, minute: d.minute }, { zone: ZONE });
        const day = end.minus({ minutes: 30 }).toISODate()!;
        if (!out.has(day)) partial.set(day, (partial.get(day) ?? 0) + d.load);
      }
      for (const [d, v] of partial) out.set(d, v);
    }
    return out;
  }

  it("connects the Cozy through the real flow and backfills the three energies; per-day sums equal the data", async () => {
    const flow = createCozyFlow({ db: app.db, vault, events: app.events, settings, log, now: () => clock, states: createOAuthStateStore(() => clock) });
    const req = { sessionId: "session-1", callbackUrl: "http://127.0.0.1:8099/api/accounts/cozy/callback" };
    const start = await flow.begin({ instance: sim.url }, req);
    expect(start.kind).toBe("redirect");
    const authorize = new URL((start as { url: string }).url);
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("scope")).toContain("com.grandlyon.egl.*:GET");
    const res = await fetch(authorize, { redirect: "manual" });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get("location")!);
    const account = await flow.callback!(Object.fromEntries(back.searchParams), req);
    expect(account.config.instance).toBe(sim.url);
    expect(vault.get(account.id)?.extra?.registrationAccessToken).toBeTruthy();
    await waitFor("the Ecolyo jobs", async () => ecolyo.jobs.length === 3);
    await ecolyo.firstSync;
    const summaries = ecolyo.lastSummaries();
    expect(summaries.map((s) => `${s.meterId}:${s.status}:${s.error ?? ""}`)).toEqual(ecolyo.jobs.map((j) => `${j.meter.id}:ok:`));
    for (const job of ecolyo.jobs) {
      const kind = job.meter.kind;
      const rows = await rowsOf(job.statistic.statisticId, UNITS[kind]);
      expect(rows.length, kind).toBeGreaterThan(8000);
      expect(continuityErrors(rows), kind).toEqual([]);
      const got = perParisDay(rows);
      const want = expected(kind);
      const wrong = [...want].filter(([d, v]) => Math.abs((got.get(d) ?? 0) - v) > 1e-3).slice(0, 5);
      expect(wrong, kind).toEqual([]);
      const total = [...want.values()].reduce((a, b) => a + b, 0);
      expect(Math.abs(rows.at(-1)!.sum - total), kind).toBeLessThan(0.01);
    }
    expect(ecolyo.jobs.map((j) => j.statistic.statisticId)).toEqual(
      ["electricity", "gas", "water"].map((k) => `energy_bridge:ecolyo_127_0_0_1_${new URL(sim.url).port}_${k}`),
    );
  }, 900_000);

  it("metadata has the right units and unit classes, and energy/validate accepts grid, gas and water", async () => {
    const ids = ecolyo.jobs.map((j) => j.statistic.statisticId);
    const list = await conn().sendMessagePromise<{ statistic_id: string; statistics_unit_of_measurement: string; unit_class?: string | null }[]>({
      type: "recorder/list_statistic_ids",
      statistic_type: "sum",
    });
    const mine = ids.map((id) => list.find((s) => s.statistic_id === id));
    expect(mine.map((m) => m?.statistics_unit_of_measurement)).toEqual(["kWh", "kWh", "L"]);
    for (const m of mine) if (m && "unit_class" in m) expect(m.unit_class).not.toBeNull();
    const [elec, gas, water] = ids as [string, string, string];
    expect(await addGridConsumption(conn(), app.ha.haVersion, elec)).toBe(true);
    expect(await addGasSource(conn(), gas)).toBe(true);
    expect(await addWaterSource(conn(), water)).toBe(true);
    expect(await addWaterSource(conn(), water)).toBe(false);
    const prefs = await conn().sendMessagePromise<{ energy_sources: { type: string }[] }>({ type: "energy/get_prefs" });
    expect(prefs.energy_sources.map((s) => s.type).sort()).toEqual(["gas", "grid", "water"]);
    for (const id of ids) expect(await energyIssuesFor(conn(), id), id).toEqual([]);
  }, 300_000);

  it("a re-run changes nothing", async () => {
    const before = await Promise.all(ecolyo.jobs.map((j) => rowsOf(j.statistic.statisticId, UNITS[j.meter.kind])));
    const again = await ecolyo.runCycle();
    expect(again.map((s) => [s.status, s.rowsSent, s.adjustments])).toEqual([["ok", 0, 0], ["ok", 0, 0], ["ok", 0, 0]]);
    const after = await Promise.all(ecolyo.jobs.map((j) => rowsOf(j.statistic.statisticId, UNITS[j.meter.kind])));
    expect(after).toEqual(before);
  }, 300_000);

  it("an expired access token is renewed with the kept refresh token; malformed JSON is a clear error and loses nothing", async () => {
    const id = ecolyo.jobs[0]!.meter.id.replace(/_electricity$/, "");
    const accountId = `cozy_${new URL(sim.url).host}`;
    const refreshBefore = vault.get(accountId)!.refreshToken;
    sim.revokeAccessTokens();
    const renewed = await ecolyo.runCycle();
    expect(renewed.map((s) => s.status)).toEqual(["ok", "ok", "ok"]);
    expect(vault.get(accountId)!.refreshToken).toBe(refreshBefore); // Cozy returns none: the old one is kept
    expect(id).toContain("ecolyo_");
    const water = ecolyo.jobs[2]!;
    const before = await rowsOf(water.statistic.statisticId, UNITS.water);
    sim.fail({ path: "/data/com.grandlyon.egl.day/_find", status: 200, body: '{"docs": [', times: 1 });
    const bad = await ecolyo.runCycle();
    const w = bad.find((s) => s.meterId === water.meter.id)!;
    expect(w.status).toBe("error");
    expect(w.error).toMatch(/malformed JSON/);
    expect(bad.filter((s) => s.meterId !== water.meter.id).map((s) => s.status)).toEqual(["ok", "ok"]);
    expect(await rowsOf(water.statistic.statisticId, UNITS.water)).toEqual(before);
    // Said on the account's health (status + detail, which the health entities publish).
    expect(getAccount(app.db, accountId)).toMatchObject({ status: "error", detail: expect.stringMatching(/malformed JSON/) });
    // A second doc with a negative load for yesterday: rejected, the day keeps its real value.
    const last = (docs["com.grandlyon.egl.day"] as EcolyoSimDoc[]).at(-1)!;
    (docs["com.grandlyon.egl.day"] as EcolyoSimDoc[]).push({ ...last, _id: "negative", load: -250 });
    const neg = (await ecolyo.runCycle()).find((s) => s.meterId === water.meter.id)!;
    expect(neg.rejected).toBe(1);
    expect(await rowsOf(water.statistic.statisticId, UNITS.water)).toEqual(before);
    // A cycle without failure clears the account's error.
    expect(neg.status).not.toBe("error");
    expect(getAccount(app.db, accountId)?.status).toBe("connected");
  }, 300_000);
});
