import { afterEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../../src/domain/errors.js";
import { openStore } from "../../../src/store/db.js";
import { createRequestGate } from "../../../src/store/request-budget.js";
import { tempDir } from "./helpers.js";

const KEY = "conso_api@https://conso.boris.sh";
const utc = (iso: string) => Date.parse(iso);

function clock(iso: string) {
  let t = utc(iso);
  return { now: () => t, set: (next: string) => (t = utc(next)) };
}
function budgetError(fn: () => void): ProviderError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error("expected acquire() to throw");
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

describe("createRequestGate", () => {
  it("admits `limit` requests per day, then throws budget_exhausted", () => {
    const db = openStore(":memory:");
    const c = clock("2026-06-10T08:00:00Z");
    const gate = createRequestGate(db, { providerKey: KEY, limit: 3, timezone: "Europe/Paris", now: c.now });
    expect(gate.remaining()).toBe(3);
    gate.acquire();
    gate.acquire();
    expect(gate.used()).toBe(2);
    expect(gate.remaining()).toBe(1);
    gate.acquire();
    expect(gate.remaining()).toBe(0);
    const err = budgetError(() => gate.acquire());
    expect(err.code).toBe("budget_exhausted");
    expect(err.message).toContain(KEY);
    expect(gate.used()).toBe(3); // a refused request is not counted
  });

  it("counts per LOCAL day of the zone: crossing Paris midnight resets (even within one UTC day)", () => {
    const db = openStore(":memory:");
    // 22:30Z = 23:30 in Paris (winter); 23:00Z = 00:00 the next Paris day, still the same UTC day
    // (and the same day in the test process zone, Pacific/Chatham).
    const c = clock("2026-01-15T22:30:00Z");
    const gate = createRequestGate(db, { providerKey: KEY, limit: 2, timezone: "Europe/Paris", now: c.now });
    gate.acquire();
    gate.acquire();
    expect(() => gate.acquire()).toThrow(ProviderError);
    c.set("2026-01-15T22:59:59.999Z");
    expect(gate.remaining()).toBe(0);
    c.set("2026-01-15T23:00:00Z");
    expect(gate.remaining()).toBe(2);
    gate.acquire();
    expect(gate.used()).toBe(1);
    const days = db.prepare(`SELECT day, count FROM request_log WHERE provider_key = ? ORDER BY day`).all(KEY);
    expect(days).toEqual([
      { day: "2026-01-15", count: 2 },
      { day: "2026-01-16", count: 1 },
    ]);
  });

  it("does not reset at UTC midnight when the Paris day goes on", () => {
    const db = openStore(":memory:");
    const c = clock("2026-07-01T23:30:00Z"); // 01:30 on 07-02 in Paris
    const gate = createRequestGate(db, { providerKey: KEY, limit: 1, timezone: "Europe/Paris", now: c.now });
    gate.acquire();
    c.set("2026-07-02T00:30:00Z"); // new UTC day, same Paris day
    expect(() => gate.acquire()).toThrow(ProviderError);
  });

  it("keeps one count per provider key", () => {
    const db = openStore(":memory:");
    const c = clock("2026-06-10T08:00:00Z");
    const a = createRequestGate(db, { providerKey: KEY, limit: 1, timezone: "Europe/Paris", now: c.now });
    const b = createRequestGate(db, { providerKey: "myelectricaldata@https://www.myelectricaldata.fr", limit: 1, timezone: "Europe/Paris", now: c.now });
    a.acquire();
    expect(b.remaining()).toBe(1);
    b.acquire();
    expect(() => a.acquire()).toThrow(ProviderError);
    // Two gates on the same key share the count (all meters of a gateway).
    const a2 = createRequestGate(db, { providerKey: KEY, limit: 1, timezone: "Europe/Paris", now: c.now });
    expect(a2.remaining()).toBe(0);
  });

  it("survives reopening a file store", () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const path = t.file("energy.db");
    const c = clock("2026-06-10T08:00:00Z");
    let db = openStore(path);
    createRequestGate(db, { providerKey: KEY, limit: 3, timezone: "Europe/Paris", now: c.now }).acquire();
    createRequestGate(db, { providerKey: KEY, limit: 3, timezone: "Europe/Paris", now: c.now }).acquire();
    db.close();
    db = openStore(path);
    const gate = createRequestGate(db, { providerKey: KEY, limit: 3, timezone: "Europe/Paris", now: c.now });
    expect(gate.used()).toBe(2);
    expect(gate.remaining()).toBe(1);
    gate.acquire();
    expect(() => gate.acquire()).toThrow(ProviderError);
    db.close();
  });
});
