/**
 * Parser for the Enedis "mesure synchrone v2" body (`/mesure_synchrone_auto/v2/*`, since
 * 2026-09-28), as returned raw by Enedis Data Connect and Conso API and inside `data` by the
 * MyElectricalData gateway with `X-MED-Format: 2026`.
 *
 * Shape (enedis-2026.md §3; MED production captures `apps/api/tests/fixtures/enedis_2026/*.json`,
 * bokub/linky fixtures):
 * `{ idPrm: "14 digits", etapeMetier?: "BRUT"|"BEST", periode?: {dateDebut, dateFin},
 *    modeCalcul?, typeValeur?, pas?: "P1D", contexte?: [],
 *    grandeur: [ { grandeurMetier: "CONS"|"PROD", grandeurPhysique: "EA"|"PA"|"PMA",
 *                  unite: "Wh"|"W"|"VA", points: [ { v: "4078", d: "2026-09-29 00:30:00",
 *                  p?: "PT30M", n?: "B", iv?, ec? } ], calendrier?: [] } ] }`.
 * Only `idPrm` and `grandeur[].grandeurMetier/points` are required: MED rebuilds bodies from its
 * cache with `idPrm`, `periode`, `grandeur` and `pas` only (MED `enedis_format.py` `build_measure`,
 * where `unite` may even be null).
 *
 * Series: the `grandeur[]` entries whose `grandeurMetier` is `CONS` (consumption meter) or `PROD`
 * (production, `meter.flow`) and whose `grandeurPhysique`, when present, is `EA` (daily), `PA`
 * (curve) or `PMA` (max power); several matching entries are read in order.
 *
 * Curve time (§4): `d` is naive Europe/Paris wall time of the interval END (Enedis, Conso API) or
 * START (MyElectricalData): option `stamp`. The step is each point's own `p` (PT5M…PT60M, may
 * change inside a series; never 48 points a day assumed); a curve point without `p` is rejected.
 *
 * DST — an ASSUMPTION, no v2 capture of a DST day exists (enedis-2026.md §4, §10): as in v5 the
 * spring day has 46 half-hours (02:00–03:00 absent) and the autumn day 50, with the naive stamps of
 * 02:00–03:00 appearing twice. Points are read in ARRAY ORDER: each naive stamp is resolved in the
 * meter's zone and, when it falls in the autumn fold, the summer (UTC+2) instant is taken unless
 * the stamp repeats or goes backwards (its summer instant is not after the previous point's), then
 * the winter (UTC+1) one. Never re-sorted, never de-duplicated by naive text; a point resolving to
 * an interval already read is rejected. A `d` with an ISO offset is taken as written.
 */
import { z } from "zod";
import type { Flow, FetchResult, MaxPowerResult, Resolution } from "../domain/types.js";
import { ProviderError } from "../domain/errors.js";
import { PeakSink, PointSink, type StampAt, type StampReading } from "./enedis-points.js";

/** zod schema of one `grandeur[]` entry (points are checked by hand, not by zod). */
const grandeurSchema = z
  .object({
    grandeurMetier: z.string(),
    grandeurPhysique: z.string().nullish(),
    unite: z.string().nullish(),
    points: z.array(z.unknown()),
  })
  .passthrough();

/** zod schema of the v2 body's top level. */
export const enedisV2Schema = z
  .object({
    idPrm: z.string(),
    etapeMetier: z.string().nullish(),
    grandeur: z.array(grandeurSchema),
  })
  .passthrough();

/** The v2 body once validated. */
export type EnedisV2Body = z.infer<typeof enedisV2Schema>;

/** Options of {@link parseEnedisV2}. */
export interface EnedisV2Options {
  /** PRM that was requested (`meter.usagePoint ?? meter.id`); `idPrm` must equal it. */
  usagePoint: string;
  /** `consumption` reads `CONS`, `production` reads `PROD`. Default consumption. */
  flow?: Flow;
  /** `daily` reads `EA` in Wh per local day; `load_curve` reads `PA` in W per interval. */
  resolution: Resolution;
  /** IANA zone of the naive stamps (Europe/Paris). */
  timezone: string;
  /** Clock (UTC epoch ms): intervals ending after it are rejected. */
  now: () => number;
  /** Curve stamps mark the interval `end` (Enedis, Conso API; default) or `start` (MyElectricalData). */
  stamp?: StampAt;
  /** Name used in error messages, e.g. "Conso API". */
  source?: string;
}

const PHYSIQUE: Record<Resolution | "max_power", { physique: string; unit: string }> = {
  daily: { physique: "EA", unit: "Wh" },
  load_curve: { physique: "PA", unit: "W" },
  max_power: { physique: "PMA", unit: "VA" },
};

const FIELDS = { value: "v", step: "p" };

/** True when `body` has the v2 shape's markers (`grandeur` array or `idPrm`). */
export function isEnedisV2(body: unknown): boolean {
  return typeof body === "object" && body !== null && (Array.isArray((body as { grandeur?: unknown }).grandeur) || "idPrm" in body);
}

/**
 * Validates the top level, the PRM, and picks the series (entries of `grandeur[]`).
 * @throws ProviderError `invalid_response` (shape, unit, or only series of another kind),
 *   `invalid_prm` (`idPrm` ≠ `usagePoint`).
 */
function selectSeries(
  body: unknown,
  usagePoint: string,
  metier: "CONS" | "PROD",
  kind: Resolution | "max_power",
  source: string,
): { body: EnedisV2Body; points: unknown[][] } {
  // Bodies that plainly have the shape skip zod (which walks every point of `points` as `unknown`);
  // anything else goes through zod, for its verdict and its error message.
  const parsed = plainV2Shape(body) ? { success: true as const, data: body } : enedisV2Schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.length > 0 ? issue.path.join(".") : "(root)"}: ${issue.message}` : "unknown";
    throw new ProviderError("invalid_response", `${source} returned an unexpected Enedis v2 shape (${where})`);
  }
  const b = parsed.data;
  if (b.idPrm !== usagePoint) {
    throw new ProviderError("invalid_prm", `${source} answered for usage point ${b.idPrm}, expected ${usagePoint}`);
  }
  const want = PHYSIQUE[kind];
  const series: unknown[][] = [];
  for (const g of b.grandeur) {
    if (g.grandeurMetier !== metier) continue;
    if (g.grandeurPhysique != null && g.grandeurPhysique !== want.physique) continue;
    if (g.unite != null && g.unite !== want.unit) {
      throw new ProviderError(
        "invalid_response",
        `${source} returned ${metier} ${want.physique} values in ${g.unite}, expected ${want.unit}`,
      );
    }
    series.push(g.points);
  }
  if (series.length === 0 && b.grandeur.length > 0) {
    const got = b.grandeur.map((g) => `${g.grandeurMetier}/${g.grandeurPhysique ?? "?"}`).join(", ");
    throw new ProviderError(
      "invalid_response",
      `${source} returned no ${metier} ${want.physique} series for usage point ${b.idPrm} (got ${got})`,
    );
  }
  return { body: b, points: series };
}

/** A plain JSON object (what `JSON.parse` makes; zod's `object` accepts it too). */
function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  // zod reads an object with `then` and `catch` functions as a promise
  return (proto === Object.prototype || proto === null) && typeof (x as { then?: unknown }).then !== "function";
}

function isNullishString(x: unknown): boolean {
  return x === undefined || x === null || typeof x === "string";
}

/**
 * True only when {@link enedisV2Schema} would accept `body` unchanged (a strict subset of what it
 * accepts: plain objects, string fields, array `points`); the body is then used as zod would have
 * returned it (passthrough keeps every key, `z.unknown()` every point).
 */
function plainV2Shape(body: unknown): body is EnedisV2Body {
  if (!isPlainObject(body) || typeof body.idPrm !== "string" || !isNullishString(body.etapeMetier)) return false;
  const grandeur = body.grandeur;
  if (!Array.isArray(grandeur)) return false;
  for (const g of grandeur) {
    if (!isPlainObject(g) || typeof g.grandeurMetier !== "string") return false;
    if (!isNullishString(g.grandeurPhysique) || !isNullishString(g.unite) || !Array.isArray(g.points)) return false;
  }
  return true;
}

/** Throws `invalid_response` naming the point when it is not an object. */
function asPoint(p: unknown, i: number, source: string): { v?: unknown; d?: unknown; p?: unknown } {
  if (typeof p !== "object" || p === null || Array.isArray(p)) {
    throw new ProviderError("invalid_response", `${source} returned an unexpected Enedis v2 shape (points.${i}: expected an object)`);
  }
  return p as { v?: unknown; d?: unknown; p?: unknown };
}

/**
 * Converts a v2 daily or curve body into readings (Wh; UTC `start`, `durationMs`; quality =
 * `etapeMetier` or null). An empty `grandeur` = no data: no readings. Rejected points (missing
 * `v`, negative, unreadable, spring-gap or repeated interval, in the future) are listed with a
 * reason. `endOfHistory` is always false here.
 *
 * @throws ProviderError `invalid_prm` (other `idPrm`; nothing returned), `invalid_response` (shape,
 *   unit, no series of the requested flow/kind), `bad_request` (unknown zone).
 */
export function parseEnedisV2(body: unknown, opts: EnedisV2Options): FetchResult {
  const first = parseWith(body, opts, opts.stamp ?? "end");
  // A start-stamped curve is read as MyElectricalData makes it (naive "end minus p"); if that
  // leaves points unplaced (only possible in the autumn fold), the gateway stamped true local
  // starts instead: read it that way and keep whichever places more points.
  if (opts.stamp !== "start" || first.rejected.length === 0 || opts.resolution === "daily") return first;
  const instant = parseWith(body, opts, "start-instant");
  return instant.rejected.length < first.rejected.length ? instant : first;
}

function parseWith(body: unknown, opts: EnedisV2Options, stamp: StampReading): FetchResult {
  const source = opts.source ?? "provider";
  const metier = opts.flow === "production" ? "PROD" : "CONS";
  const { body: b, points: series } = selectSeries(body, opts.usagePoint, metier, opts.resolution, source);
  const sink = new PointSink({
    timezone: opts.timezone,
    now: opts.now(),
    quality: b.etapeMetier ?? null,
    stamp,
    fields: FIELDS,
  });
  for (const points of series) {
    sink.newSeries();
    if (opts.resolution === "daily") {
      for (let i = 0; i < points.length; i++) {
        const p = asPoint(points[i], i, source);
        sink.daily(p.d, p.v);
      }
    } else {
      for (let i = 0; i < points.length; i++) {
        const p = asPoint(points[i], i, source);
        sink.curve(p.d, p.v, p.p);
      }
    }
  }
  return sink.result();
}

/**
 * Converts a v2 `puissance_conso_max_quotidienne` body (`grandeurPhysique: "PMA"`, `unite: "VA"`,
 * points `{v: "4680", d: "2026-09-29 13:03:35"}` = naive local time of the day's peak) into
 * `DailyMaxPower {day, valueVa, at}`. Always the `CONS` series (Enedis has no production peak).
 * The recordings say `VA`, the Swagger text "W": `W` is refused as a unit.
 *
 * @throws ProviderError as {@link parseEnedisV2}.
 */
export function parseEnedisV2MaxPower(
  body: unknown,
  opts: Omit<EnedisV2Options, "resolution" | "stamp" | "flow">,
): MaxPowerResult {
  const source = opts.source ?? "provider";
  const { points: series } = selectSeries(body, opts.usagePoint, "CONS", "max_power", source);
  const sink = new PeakSink({ timezone: opts.timezone, now: opts.now(), fields: FIELDS });
  for (const points of series) {
    for (let i = 0; i < points.length; i++) {
      const p = asPoint(points[i], i, source);
      sink.peak(p.d, p.v);
    }
  }
  return { points: sink.points, rejected: sink.rejected, endOfHistory: false };
}
