/**
 * Entities, events, a real automation, HA restarts, bad provider input and the CLI, against a real
 * Home Assistant Core and the Conso API simulator serving the bundled real data.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DateTime } from "luxon";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithHA, startHomeAssistant, type HomeAssistantInstance } from "../helpers/ha-harness.js";
import { printHaLogOnFailure } from "../helpers/ha-failure-log.js";
import { startProviderSimulator, type ProviderSimulator } from "../helpers/provider-simulator.js";
import { loadHalfHourSeries, REPO_ROOT, SCEAUX_2008_30MIN } from "../helpers/dataset.js";
import { haRows, testService, testSettings } from "../helpers/service-fixture.js";
import type { Service } from "../helpers/service-fixture.js";
import { entityIds } from "../../src/homeassistant/entities.js";

const DAY = 86_400_000;

/** Runs `energy-bridge sync --once` from source; resolves with its exit status and output. */
async function cli(env: NodeJS.ProcessEnv): Promise<{ status: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", "src/cli.ts", "sync", "--once"], {
      cwd: REPO_ROOT,
      env,
      timeout: 120_000,
    });
    return { status: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}
const HALF_HOUR = 1_800_000;
const ZONE = "Europe/Paris";

describeWithHA("Linky entities, events and automations in a real Home Assistant", () => {
  let ha: HomeAssistantInstance;
  printHaLogOnFailure(() => ha);
  let sim: ProviderSimulator;
  let service: Service & { dispose(): void };
  let clock: number;
  let ids: ReturnType<typeof entityIds>;

  const state = async (entityId: string) => {
    const res = await fetch(`${ha.url}/api/states/${entityId}`, { headers: { Authorization: `Bearer ${ha.token}` } });
    return res.status === 404 ? null : ((await res.json()) as { state: string; attributes: Record<string, unknown> });
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  /** Complete Paris-day totals (Wh) of what the simulator serves, computed from its half-hours. */
  const servedDays = () => {
    const perDay = new Map<string, { wh: number; n: number }>();
    for (const p of sim.served()) {
      const d = DateTime.fromMillis(p.start, { zone: ZONE }).toISODate()!;
      const e = perDay.get(d) ?? { wh: 0, n: 0 };
      perDay.set(d, { wh: e.wh + p.wh, n: e.n + 1 });
    }
    const totals = new Map<string, number>();
    for (const [d, { wh, n }] of perDay) {
      const start = DateTime.fromISO(d, { zone: ZONE });
      if (n * HALF_HOUR === start.plus({ days: 1 }).toMillis() - start.toMillis()) totals.set(d, wh);
    }
    return totals;
  };
  const avg7 = (day: string) => {
    const totals = servedDays();
    const prev = [1, 2, 3, 4, 5, 6, 7].map((k) => totals.get(DateTime.fromISO(day).minus({ days: k }).toISODate()!)).filter((v) => v !== undefined);
    return prev.reduce((a, b) => a + b, 0) / prev.length;
  };
  /** Replaces every half-hour of local `day` so the day totals `totalWh`. */
  const setDay = (day: string, totalWh: number) => {
    const start = DateTime.fromISO(day, { zone: ZONE }).toMillis();
    const end = DateTime.fromISO(day, { zone: ZONE }).plus({ days: 1 }).toMillis();
    const n = (end - start) / HALF_HOUR;
    const values = new Map<number, number>();
    for (let t = start; t < end; t += HALF_HOUR) values.set(t, Math.round((totalWh / n) * 1000) / 1000);
    sim.override(values);
  };
  const todayOfClock = () => DateTime.fromMillis(clock, { zone: ZONE }).toISODate()!;

  beforeAll(async () => {
    clock = Date.now() - 3 * DAY;
    sim = await startProviderSimulator({ series: loadHalfHourSeries(SCEAUX_2008_30MIN), now: () => clock });
    ids = entityIds(sim.prm);
    ha = await startHomeAssistant({
      automations: [
        {
          id: "energy_bridge_anomaly_test",
          alias: "Energy Bridge anomaly → flag",
          trigger: [{ platform: "state", entity_id: ids.anomaly, to: "on" }],
          action: [{ service: "input_boolean.turn_on", target: { entity_id: "input_boolean.anomaly_seen" } }],
        },
      ],
    });
    service = await testService(testSettings(ha, sim), () => clock);
    await service.link.connection.sendMessagePromise({ type: "input_boolean/create", name: "anomaly seen" });
    const [s] = await service.runCycle();
    expect(s!.status, s!.error ?? "").toBe("ok");
  });
  afterAll(async () => {
    service?.dispose();
    await sim?.close();
    await ha?.stop();
  });

  it("publishes the daily total and sync health", async () => {
    const yesterday = DateTime.fromMillis(clock, { zone: ZONE }).minus({ days: 1 }).toISODate()!;
    const daily = await waitFor("daily sensor", () => state(ids.daily));
    const expected = servedDays().get(yesterday)!;
    expect(daily.attributes.day).toBe(yesterday);
    expect(Math.abs(Number(daily.state) - expected / 1000)).toBeLessThanOrEqual(0.0005);
    expect(daily.attributes.unit_of_measurement).toBe("kWh");
    expect(daily.attributes.device_class).toBe("energy");
    const lastSync = (await state(ids.lastSync))!;
    expect(Date.parse(lastSync.state)).toBe(clock);
    expect(typeof lastSync.attributes.status).toBe("string");
    expect(["on", "off"]).toContain((await state(ids.anomaly))!.state);
  });

  it("a day pushed over the threshold turns the anomaly sensor on, fires energy_bridge_anomaly and runs a real automation", async () => {
    // Day A: exactly its 7-day average → not an anomaly, the sensor goes (or stays) off.
    const dayA = todayOfClock();
    setDay(dayA, avg7(dayA));
    clock += DAY;
    await service.runCycle();
    expect((await state(ids.anomaly))!.state).toBe("off");

    await service.link.connection.sendMessagePromise({
      type: "call_service",
      domain: "input_boolean",
      service: "turn_off",
      target: { entity_id: "input_boolean.anomaly_seen" },
    });
    expect((await state("input_boolean.anomaly_seen"))!.state).toBe("off");

    // Day B: 2.5 × its 7-day average → critical.
    const dayB = todayOfClock();
    const avgB = avg7(dayB);
    setDay(dayB, 2.5 * avgB);
    const events: Record<string, unknown>[] = [];
    const unsub = await service.link.connection.subscribeEvents<{ data: Record<string, unknown> }>(
      (e) => events.push(e.data),
      "energy_bridge_anomaly",
    );
    clock += DAY;
    const [s] = await service.runCycle();
    expect(s!.anomalies).toBeGreaterThanOrEqual(1);
    const sensor = (await state(ids.anomaly))!;
    expect(sensor.state).toBe("on");
    expect(sensor.attributes.day).toBe(dayB);
    expect(sensor.attributes.severity).toBe("critical");
    expect(Math.abs((sensor.attributes.variance_percent as number) - 150)).toBeLessThan(0.2);
    expect(Math.abs((sensor.attributes.avg_7d_kwh as number) - avgB / 1000)).toBeLessThan(0.002);
    await waitFor("automation to turn the flag on", async () => (await state("input_boolean.anomaly_seen"))?.state === "on", 15_000);
    await waitFor("anomaly event", async () => events.some((e) => e.day === dayB && e.severity === "critical"), 10_000);
    await unsub();
  });

  it("bad provider input gives a clear error and loses nothing already stored", async () => {
    const sid = service.jobs[0]!.statistic.statisticId;
    const count = () => (service.db.prepare("SELECT COUNT(*) AS n FROM readings").get() as { n: number }).n;
    const rowsBefore = await haRows(service.link.connection, sid);
    const storedBefore = count();

    sim.failNext({ status: 200, body: '{"usage_point_id": "' + sim.prm + '", "interval_reading": [', times: 2 });
    let [s] = await service.runCycle();
    expect(s!.status).toBe("error");
    expect(s!.error).toMatch(/JSON/i);

    const yesterday = DateTime.fromMillis(clock, { zone: ZONE }).minus({ days: 1 }).toISODate()!;
    const tomorrow = DateTime.fromMillis(clock, { zone: ZONE }).plus({ days: 1 }).toISODate()!;
    const realWh = servedDays().get(yesterday)!;
    const body = (points: { value: string; date: string }[], usagePoint = sim.prm) => ({
      usage_point_id: usagePoint,
      start: yesterday,
      end: tomorrow,
      quality: "BRUT",
      reading_type: { unit: "Wh", measurement_kind: "energy", aggregate: "sum", measuring_period: "P1D" },
      interval_reading: points,
    });
    sim.failNext({ status: 200, body: body([{ value: "-500", date: yesterday }, { value: "4000", date: tomorrow }]) });
    [s] = await service.runCycle();
    expect(s!.rejected).toBe(2);

    sim.failNext({ status: 200, body: body([{ value: String(realWh), date: yesterday }], "11111111111111") });
    [s] = await service.runCycle();
    expect(s!.status).toBe("error");
    expect(s!.error).toContain("11111111111111");

    expect(count()).toBe(storedBefore);
    expect(await haRows(service.link.connection, sid)).toEqual(rowsBefore);
  });

  it("a PRM the token does not cover stops with a clear auth error, published on its sync sensor", async () => {
    const wrong = await testService(
      testSettings(ha, sim, { meters: [{ provider: "conso_api", prm: "99999999999999", token: sim.token, baseUrl: sim.baseUrl, name: "Wrong", production: "off" }] }),
      () => clock,
    );
    try {
      const [s] = await wrong.runCycle();
      expect(s!.status).toBe("auth_error");
      expect(s!.error).toMatch(/token/i);
      expect(s!.requests).toBe(0);
      const sync = (await state(entityIds("99999999999999").lastSync))!;
      expect(sync.attributes.status).toBe("auth_error");
      expect(String(sync.attributes.last_error)).toMatch(/token/i);
    } finally {
      wrong.dispose();
    }
  });

  it("re-publishes its entities after Home Assistant restarts", async () => {
    const before = (await state(ids.daily))!.state;
    await ha.restart();
    const daily = await waitFor("daily sensor after restart", () => state(ids.daily), 90_000);
    expect(daily.state).toBe(before);
    // The entities are posted one after the other (daily, max power, last sync): wait for the last.
    const lastSync = await waitFor("last sync sensor after restart", () => state(ids.lastSync), 30_000);
    expect(typeof lastSync.attributes.status).toBe("string");
  });

  it("`energy-bridge sync --once` prints one summary line per meter; invalid options stop with the option named", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eb-cli-"));
    clock = Date.now(); // the CLI runs on the real clock: let the simulator publish up to real yesterday
    try {
      const options = join(dir, "options.yaml");
      writeFileSync(
        options,
        `meters:\n  - provider: conso_api\n    prm: "${sim.prm}"\n    token: ${sim.token}\n    base_url: ${sim.baseUrl}\nrequest_budget_per_day: 200\n`,
      );
      const env = { ...process.env, HA_URL: ha.url, HA_TOKEN: ha.token, DATA_DIR: dir, ENERGY_BRIDGE_OPTIONS: options };
      // Async: the simulator lives in this process and must keep serving while the CLI runs.
      const run = await cli(env);
      expect(run.stderr).not.toMatch(/\] ERROR: /); // no error logged (readable log lines)
      expect(run.status, run.stdout + run.stderr).toBe(0);
      const lines = run.stdout.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^meter ${sim.prm}: ok \\| fetched \\d+ points in \\d+ request\\(s\\) \\| stored \\d+ \\| rejected 0 \\| statistics rows sent \\d+`));

      writeFileSync(options, `meters:\n  - provider: conso_api\n    prm: "1234"\n    token: x\n`);
      const bad = await cli(env);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain("option meters[0].prm");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("`energy-bridge run` backfills on first start, then stops cleanly on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eb-run-"));
    clock = Date.now();
    try {
      const options = join(dir, "options.json");
      writeFileSync(options, JSON.stringify({ meters: [{ provider: "conso_api", prm: sim.prm, token: sim.token, base_url: sim.baseUrl }], request_budget_per_day: 200 }));
      const env = { ...process.env, HA_URL: ha.url, HA_TOKEN: ha.token, DATA_DIR: dir, ENERGY_BRIDGE_OPTIONS: options };
      const child = spawn(process.execPath, ["--import", "tsx", "src/cli.ts", "run"], { cwd: REPO_ROOT, env });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
      await waitFor("first-start cycle summary", async () => out.includes(`meter ${sim.prm}: ok |`), 90_000);
      expect(out).toContain("daily sync scheduled at");
      expect(out).toContain("first start: backfill");
      child.kill("SIGTERM");
      expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r("timeout"), 15_000))])).toBe(0);
      expect(out).toContain("SIGTERM received, stopping");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
