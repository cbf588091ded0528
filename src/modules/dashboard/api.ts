/**
 * The dashboard's JSON API as a fastify plugin (seed 001's shapes, per meter instead of building):
 *   GET  api/meters                         every meter with its units and data extent
 *   GET  api/meters/:id/readings            ?from&to&page&per_page (≤ 1000), stable pagination
 *   GET  api/meters/:id/statistics          ?period=day|week|month|year&from&to, comparisons
 *   GET  api/meters/:id/anomalies           ?days&threshold
 *   POST api/meters/:id/sync                {from,to}: a manual sync of local days through the budget
 *   GET  api/meters/:id/export.csv          ?from&to readings; &kind=statistics&period for periods
 *   POST api/meters/:id/import              a portal CSV/XLSX body (?name=file.csv|.xlsx)
 *   GET  api/progress                       backfill progress of every meter and account status
 *   GET  api/openapi.json                   the OpenAPI 3.1 description of all of this
 * Errors: `{ error, message }` with 400 (invalid PRM or parameter), 404 (unknown meter), 503
 * (provider unavailable). Paths are relative to wherever the web module mounts the plugin.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from "fastify";
import type { ZodTypeAny, z } from "zod";
import { dayStart, localDay } from "../../analysis/days.js";
import type { LocalDate, Meter } from "../../domain/types.js";
import { ProviderError } from "../../domain/errors.js";
import type { Db } from "../../store/db.js";
import { listMeters } from "../../store/meters.js";
import { readingsExtent } from "../../store/readings.js";
import { readingsCsv, statisticsCsv } from "../../export/csv.js";
import { ImportError, type ImportOutcome } from "../../import/import-file.js";
import { ApiError, displayUnit, findMeter } from "./meter-lookup.js";
import { openApiDocument } from "./openapi.js";
import { accountsStatus, meterProgress } from "./progress.js";
import { meterAnomalies, meterStatistics, readingsPage } from "./queries.js";
import * as S from "./schemas.js";

/** What a manual sync did (or, when only requested, what it will do). */
export type SyncReport = z.infer<typeof S.syncResponse>;

/**
 * A manual sync of local days [from, to) of one meter through the provider's request budget.
 * Throws ProviderError (`unavailable` → 503, `budget_exhausted` → 429, `invalid_prm` → 400).
 */
export type ManualSync = (meter: Meter, range: { from: LocalDate; to: LocalDate }) => Promise<SyncReport>;

/** Imports one portal file for a meter (import/import-file.ts); throws ImportError on a bad file. */
export type Importer = (meter: Meter, name: string, bytes: Buffer) => Promise<ImportOutcome>;

/** What the API reads and calls. */
export interface DashboardApiDeps {
  db: Db;
  now: () => number;
  /** Runs a manual sync; absent → the request is handed to `requestSync` and answered 202. */
  sync?: ManualSync;
  /** Fallback when there is no `sync`: hand the request on (e.g. to another module) and answer 202. */
  requestSync?: (meter: Meter, range: { from: LocalDate; to: LocalDate }) => void;
  importer?: Importer;
  /** UTC ms of the next scheduled sync (the shared scheduler), or null. */
  nextSync?: () => number | null;
  /** The `request_budget_per_day` option, for the progress estimate. */
  budgetOption?: number;
}

function parse<T extends ZodTypeAny>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ApiError(400, "invalid_parameter", `${i.path.join(".") || "request"}: ${i.message}`);
  }
  return r.data;
}

/** A local date in the meter's zone from `YYYY-MM-DD` or an ISO instant; 400 otherwise. */
function toLocalDate(raw: string, meter: Meter, name: string): LocalDate {
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const t = Date.parse(raw);
    if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== raw) throw new ApiError(400, "invalid_parameter", `${name}: "${raw}" is not a calendar date`);
    return raw;
  }
  const t = Date.parse(raw);
  if (Number.isNaN(t) || !/T/.test(raw)) throw new ApiError(400, "invalid_parameter", `${name}: "${raw}" is neither a date (YYYY-MM-DD) nor an ISO 8601 instant`);
  return localDay(t, meter.timezone);
}

/** UTC ms from `YYYY-MM-DD` (local midnight in the meter's zone) or an ISO instant. */
function toInstant(raw: string, meter: Meter, name: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) return dayStart(toLocalDate(raw, meter, name), meter.timezone);
  toLocalDate(raw, meter, name);
  return Date.parse(raw);
}

function range(from: string, to: string, meter: Meter): { from: LocalDate; to: LocalDate } {
  const f = toLocalDate(from, meter, "from");
  const t = toLocalDate(to, meter, "to");
  if (t <= f) throw new ApiError(400, "invalid_parameter", `to (${t}) must be after from (${f})`);
  if (Date.parse(t) - Date.parse(f) > 20 * 366 * 86_400_000) throw new ApiError(400, "invalid_parameter", "the range may span at most 20 years");
  return { from: f, to: t };
}

function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof ApiError) return reply.code(err.status).send({ error: err.error, message: err.message });
  if (err instanceof ImportError) return reply.code(400).send({ error: "invalid_file", message: err.message });
  if (err instanceof ProviderError) {
    const status = err.code === "unavailable" ? 503 : err.code === "invalid_prm" ? 400 : err.code === "budget_exhausted" || err.code === "quota_exceeded" ? 429 : 502;
    const error = err.code === "unavailable" ? "provider_unavailable" : err.code;
    return reply.code(status).send({ error, message: err.message });
  }
  return reply.code(500).send({ error: "internal", message: (err as Error).message });
}

/** See the file comment. */
export function dashboardApi(deps: DashboardApiDeps): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const { db } = deps;
    const meterOf = (params: unknown) => findMeter(db, String((params as { id: string }).id));
    const route = (method: "GET" | "POST", url: string, handler: (req: { params: unknown; query: unknown; body: unknown }, reply: FastifyReply) => unknown) =>
      app.route({
        method,
        url,
        // Under the web module's per-session rate limit (5 requests/s over 5 s, seed 003;
        // web/server.ts WEB_DEFAULTS) the page's first load alone makes ~4 reads per meter and each
        // period switch as many again: reads get a burst allowance, writes keep the limit.
        ...(method === "GET" ? { config: { rateLimit: { max: 60, timeWindow: 1000 } } } : {}),
        // Portal exports are a few MB (a year of half-hours ≈ 1.5 MB CSV); the server default is 64 kB.
        ...(url.endsWith("/import") ? { bodyLimit: 50 * 1024 * 1024 } : {}),
        handler: async (req, reply) => {
          try {
            const body = await handler(req, reply);
            return reply.sent ? reply : body;
          } catch (err) {
            return sendError(reply, err);
          }
        },
      });

    route("GET", "/api/openapi.json", () => openApiDocument());

    route("GET", "/api/meters", () => ({
      meters: listMeters(db).map((m) => {
        const extent = readingsExtent(db, m.id);
        return {
          id: m.id,
          name: m.name,
          provider: m.provider,
          kind: m.kind,
          flow: m.flow ?? "consumption",
          unit: m.unit,
          display_unit: displayUnit(m).unit,
          timezone: m.timezone,
          first_reading: extent ? new Date(extent.first).toISOString() : null,
          last_reading: extent ? new Date(extent.last).toISOString() : null,
          last_day: extent ? localDay(extent.last - 1, m.timezone) : null,
        };
      }),
    }));

    route("GET", "/api/meters/:id/readings", (req) => {
      const meter = meterOf(req.params);
      const q = parse(S.readingsQuery, req.query);
      const from = toInstant(q.from, meter, "from");
      const to = toInstant(q.to, meter, "to");
      if (to <= from) throw new ApiError(400, "invalid_parameter", "to must be after from");
      return readingsPage(db, meter, from, to, q.page, q.per_page);
    });

    route("GET", "/api/meters/:id/statistics", (req) => {
      const meter = meterOf(req.params);
      const q = parse(S.statisticsQuery, req.query);
      const r = range(q.from, q.to, meter);
      if (q.period === "day" && Date.parse(r.to) - Date.parse(r.from) > 400 * 86_400_000) {
        throw new ApiError(400, "invalid_parameter", "period=day covers at most 400 days; use week, month or year for longer ranges");
      }
      return meterStatistics(db, meter, q.period, r.from, r.to);
    });

    route("GET", "/api/meters/:id/anomalies", (req) => {
      const meter = meterOf(req.params);
      const q = parse(S.anomaliesQuery, req.query);
      return meterAnomalies(db, meter, q.days, q.threshold, deps.now());
    });

    route("POST", "/api/meters/:id/sync", async (req, reply) => {
      const meter = meterOf(req.params);
      const body = parse(S.syncBody, req.body ?? {});
      const r = range(body.from, body.to, meter);
      if (deps.sync) return deps.sync(meter, r);
      if (!deps.requestSync) throw new ProviderError("unavailable", "manual sync is not available: no provider runs for this meter");
      deps.requestSync(meter, r);
      const progress = meterProgress(db, meter, deps.now(), deps.budgetOption);
      const report: SyncReport = {
        meter_id: meter.id,
        status: "requested",
        date_range: { start: r.from, end: r.to },
        requests_made: null,
        synced_readings: null,
        requests_left_today: progress.requests_left_today,
        message: `sync of ${r.from} … ${r.to} requested; it runs within today's request budget (${progress.requests_left_today ?? "unknown"} calls left)`,
      };
      return reply.code(202).send(report);
    });

    route("GET", "/api/meters/:id/export.csv", (req, reply) => {
      const meter = meterOf(req.params);
      const q = parse(S.exportQuery, req.query);
      const kind = (req.query as { kind?: string }).kind ?? "readings";
      const r = range(q.from, q.to, meter);
      const csv =
        kind === "statistics"
          ? statisticsCsv(meterStatistics(db, meter, q.period, r.from, r.to), meter)
          : kind === "readings"
            ? readingsCsv(db, meter, dayStart(r.from, meter.timezone), dayStart(r.to, meter.timezone))
            : (() => {
                throw new ApiError(400, "invalid_parameter", `kind must be readings or statistics, not "${kind}"`);
              })();
      const name = `${meter.id}_${kind}_${r.from}_${r.to}.csv`;
      return reply.header("content-type", "text/csv; charset=utf-8").header("content-disposition", `attachment; filename="${name}"`).send(csv);
    });

    app.addContentTypeParser(
      ["text/csv", "application/octet-stream", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
      { parseAs: "buffer", bodyLimit: 50 * 1024 * 1024 },
      (_req, body, done) => done(null, body),
    );
    route("POST", "/api/meters/:id/import", async (req) => {
      const meter = meterOf(req.params);
      if (!deps.importer) throw new ApiError(503, "import_unavailable", "import is not available in this service");
      const name = String((req.query as { name?: string }).name ?? "upload.csv");
      if (!Buffer.isBuffer(req.body)) throw new ApiError(400, "invalid_file", "send the file as the request body (text/csv or the .xlsx content type)");
      return deps.importer(meter, name, req.body);
    });

    route("GET", "/api/progress", () => ({
      next_sync: (() => {
        const t = deps.nextSync?.() ?? null;
        return t === null ? null : new Date(t).toISOString();
      })(),
      meters: listMeters(db).map((m) => meterProgress(db, m, deps.now(), deps.budgetOption)),
      accounts: accountsStatus(db),
    }));
  };
}
