/**
 * Portal CSV and XLSX imports built from the bundled real data: the readings come back exactly
 * (DST autumn day with its repeated hour, spring day without its missing hour), importing twice
 * changes nothing, a correction marks its hour dirty, a malformed file names its line and stores
 * nothing, and the import folder moves files to done/ or failed/.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DateTime } from "luxon";
import { describe, expect, it } from "vitest";
import { scanImportFolder } from "../../../src/import/folder.js";
import { ImportError, importPortalFile, parsePortalFile } from "../../../src/import/import-file.js";
import { openStore } from "../../../src/store/db.js";
import { upsertMeter } from "../../../src/store/meters.js";
import { clearDirty, dirtyRange, readingsBetween } from "../../../src/store/readings.js";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../../helpers/dataset.js";
import { LINKY, PRM } from "../dashboard/fixture.js";
import { portalCsv, portalXlsx } from "./portal-fixture.js";

const year = loadHalfHourSeries(SCEAUX_2008_30MIN);
// March (spring change on 30th) through October (autumn change on 26th) 2008: both DST days.
const span = year.filter((p) => p.start >= Date.parse("2008-03-24T23:00:00Z") && p.start < Date.parse("2008-10-31T23:00:00Z"));
const round = (v: number) => Math.round(v * 1e6) / 1e6;
const expected = span.filter((p) => p.wh !== null).map((p) => ({ start: p.start, value: round(p.wh!) }));
/** W × 30 / 60 is not bit-exact Wh in binary floating point: compare to the micro-watt-hour. */
const shape = (rs: readonly { start: number; value: number }[]) => rs.map((r) => ({ start: r.start, value: round(r.value) }));

function store() {
  const db = openStore(":memory:");
  upsertMeter(db, LINKY, 0);
  return db;
}

describe("portal export parsing", () => {
  it("CSV: every half-hour back at its UTC start with its Wh, both DST days included", async () => {
    const parsed = await parsePortalFile("export.csv", Buffer.from(portalCsv(span, PRM), "utf8"));
    expect(parsed.format).toBe("csv");
    expect(parsed.prm).toBe(PRM);
    expect(shape(parsed.readings)).toEqual(expected);
    expect(parsed.missing).toBe(span.length - expected.length);
    const autumn = parsed.readings.filter((r) => r.start >= Date.parse("2008-10-25T22:00:00Z") && r.start < Date.parse("2008-10-26T23:00:00Z"));
    const spring = parsed.readings.filter((r) => r.start >= Date.parse("2008-03-29T23:00:00Z") && r.start < Date.parse("2008-03-30T22:00:00Z"));
    expect(new Set(autumn.map((r) => r.start)).size).toBe(autumn.length);
    expect(autumn.length).toBe(span.filter((p) => p.wh !== null && p.start >= Date.parse("2008-10-25T22:00:00Z") && p.start < Date.parse("2008-10-26T23:00:00Z")).length);
    const springSource = span.filter((p) => p.start >= Date.parse("2008-03-29T23:00:00Z") && p.start < Date.parse("2008-03-30T22:00:00Z"));
    expect(springSource).toHaveLength(46); // a 23-hour day
    expect(spring.length).toBe(springSource.filter((p) => p.wh !== null).length);
  });

  it("the older layout (metadata rows, then Horodate;Valeur with ISO offsets): the same readings", async () => {
    const iso = (t: number) => DateTime.fromMillis(t, { zone: "Europe/Paris" }).toISO({ suppressMilliseconds: true })!;
    const lines = [
      "Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;Grandeur metier;Etape metier;Unite;Pas en minutes",
      `${PRM};Courbe de charge;25/03/2008;01/11/2008;Energie active;Consommation;Comptage Brut;W;30`,
      "",
      "Horodate;Valeur",
      ...span.map((p) => `${iso(p.start + 1_800_000)};${p.wh === null ? "" : p.wh * 2}`),
    ];
    const parsed = await parsePortalFile("old.csv", Buffer.from(lines.join("\n"), "utf8"));
    expect(parsed.prm).toBe(PRM);
    expect(shape(parsed.readings)).toEqual(expected);
  });

  it("XLSX (write-excel-file, read back with read-excel-file): the same readings", async () => {
    const parsed = await parsePortalFile("export.xlsx", await portalXlsx(span, PRM));
    expect(parsed.format).toBe("xlsx");
    expect(shape(parsed.readings)).toEqual(expected);
  });
});

describe("import into the store", () => {
  it("is idempotent; a corrected value replaces the old one and marks its hour dirty", async () => {
    const db = store();
    const csv = Buffer.from(portalCsv(span, PRM), "utf8");
    const first = await importPortalFile(db, LINKY, "a.csv", csv, 1);
    expect(first).toMatchObject({ inserted: expected.length, updated: 0, unchanged: 0, readings: expected.length });
    clearDirty(db, PRM, Date.parse("2009-01-01T00:00:00Z"));
    const again = await importPortalFile(db, LINKY, "a.csv", csv, 2);
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: expected.length });
    expect(dirtyRange(db, PRM)).toBeNull();
    const target = expected[1000]!;
    const corrected = span.map((p) => (p.start === target.start ? { ...p, wh: p.wh! + 50 } : p));
    const third = await importPortalFile(db, LINKY, "b.csv", Buffer.from(portalCsv(corrected, PRM), "utf8"), 3);
    expect(third).toMatchObject({ inserted: 0, updated: 1 });
    const hour = Math.floor(target.start / 3_600_000) * 3_600_000;
    expect(dirtyRange(db, PRM)).toEqual({ first: hour, last: hour });
    const stored = readingsBetween(db, PRM, target.start, target.start + 1_800_000);
    expect(stored[0]!.value).toBeCloseTo(target.value + 50, 9);
  });

  it("a malformed file names its line and stores nothing", async () => {
    const db = store();
    const lines = portalCsv(span, PRM).split("\r\n");
    const badLine = 5000; // 1-based line number in the file
    const cells = lines[badLine - 1]!.split(";");
    cells[8] = "12O"; // letter O for a zero
    lines[badLine - 1] = cells.join(";");
    const bad = Buffer.from(lines.join("\r\n"), "utf8");
    const err = await importPortalFile(db, LINKY, "bad.csv", bad, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as Error).message).toContain(`line ${badLine}`);
    expect((err as Error).message).toContain("12O");
    expect(readingsBetween(db, PRM, 0, Date.parse("2010-01-01T00:00:00Z"))).toHaveLength(0);
    expect(dirtyRange(db, PRM)).toBeNull();
    const wrongPrm = await importPortalFile(db, LINKY, "other.csv", Buffer.from(portalCsv(span, "11111111111111"), "utf8"), 1).catch((e: unknown) => e);
    expect((wrongPrm as Error).message).toMatch(/PRM 11111111111111, not 12345678901234/);
    const notXlsx = await importPortalFile(db, LINKY, "x.xlsx", Buffer.from("hello"), 1).catch((e: unknown) => e);
    expect(notXlsx).toBeInstanceOf(ImportError);
    expect(readingsBetween(db, PRM, 0, Date.parse("2010-01-01T00:00:00Z"))).toHaveLength(0);
  });

  it("the import folder: a good file to done/, a bad one to failed/ with its error", async () => {
    const db = store();
    const dir = mkdtempSync(join(tmpdir(), "eb-import-"));
    writeFileSync(join(dir, "good.xlsx"), await portalXlsx(span.slice(0, 2000), PRM));
    writeFileSync(join(dir, "bad.csv"), "Identifiant PRM;Horodate;Valeur\r\n" + `${PRM};2008-03-25 00:30:00;100\r\n${PRM};not a date;100\r\n`);
    writeFileSync(join(dir, "notes.txt"), "ignored");
    const result = await scanImportFolder(dir, db, Date.now() + 60_000);
    expect(result.map((r) => [r.file, r.ok])).toEqual([
      ["bad.csv", false],
      ["good.xlsx", true],
    ]);
    expect(readdirSync(join(dir, "done"))).toHaveLength(1);
    const failed = readdirSync(join(dir, "failed"));
    const errorFile = failed.find((f) => f.endsWith(".error.txt"))!;
    expect(readFileSync(join(dir, "failed", errorFile), "utf8")).toMatch(/line 3: Horodate "not a date"/);
    expect(readdirSync(dir).sort()).toEqual(["done", "failed", "notes.txt"]);
    expect(readingsBetween(db, PRM, 0, Date.parse("2010-01-01T00:00:00Z")).length).toBe(span.slice(0, 2000).filter((p) => p.wh !== null).length);
  });
});
