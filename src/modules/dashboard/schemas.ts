/**
 * zod schemas of the dashboard API: query parameters (parsed and checked by the routes) and
 * response bodies (turned into the OpenAPI document by openapi.ts; tests validate every real
 * response against that document).
 */
import { z } from "zod";

const localDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
/** A local date `YYYY-MM-DD` (meter's zone) or an ISO 8601 instant (converted to its local date). */
const dateOrInstant = z.string().min(10).max(40);

export const readingsQuery = z.object({
  from: dateOrInstant,
  to: dateOrInstant,
  page: z.coerce.number().int().min(1).default(1),
  per_page: z.coerce.number().int().min(1).max(1000).default(100),
});

export const statisticsQuery = z.object({
  period: z.enum(["day", "week", "month", "year"]),
  from: dateOrInstant,
  to: dateOrInstant,
});

export const anomaliesQuery = z.object({
  days: z.coerce.number().int().min(1).max(3660).default(30),
  threshold: z.coerce.number().min(101).max(1000).default(120),
});

export const exportQuery = z.object({
  from: dateOrInstant,
  to: dateOrInstant,
  period: z.enum(["day", "week", "month", "year"]).default("day"),
});

export const syncBody = z.object({ from: localDate, to: localDate }).strict();

export const errorSchema = z
  .object({ error: z.string(), message: z.string().describe("One plain sentence for the user.") })
  .describe("An error: 400 invalid PRM or parameter, 404 unknown meter, 503 provider unavailable.");

export const meterSchema = z.object({
  id: z.string(),
  name: z.string(),
  provider: z.string(),
  kind: z.enum(["electricity", "gas", "water"]),
  flow: z.enum(["consumption", "production"]),
  unit: z.string().describe("Store unit of readings (Wh, m³, L)."),
  display_unit: z.string().describe("Unit of statistics and anomalies (kWh, m³, L)."),
  timezone: z.string(),
  first_reading: z.string().nullable(),
  last_reading: z.string().nullable(),
  /** Local day (meter's zone) of the last reading: where the page's views end. */
  last_day: localDate.nullable(),
});

export const metersResponse = z.object({ meters: z.array(meterSchema) });

export const readingsResponse = z.object({
  meter_id: z.string(),
  unit: z.string(),
  readings: z.array(
    z.object({
      start: z.string(),
      end: z.string(),
      duration_minutes: z.number(),
      value: z.number().min(0),
      quality: z.string().nullable(),
    }),
  ),
  pagination: z.object({
    page: z.number().int().min(1),
    per_page: z.number().int().min(1).max(1000),
    total: z.number().int().min(0),
    total_pages: z.number().int().min(0),
  }),
});

const point = z.object({
  period: z.string(),
  start: localDate,
  end: localDate,
  start_utc: z.string(),
  end_utc: z.string(),
  value: z.number().nullable().describe("Energy of the period; null when it holds no reading (missing, not zero)."),
  avg: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  days: z.number().int(),
  complete_days: z.number().int(),
  missing_days: z.array(localDate),
  complete: z.boolean(),
});

const comparisonDetail = z.object({
  percent: z.number().nullable(),
  current_period: z.string(),
  reference_period: z.string(),
  basis: z.enum(["total", "daily_average", "hourly_average"]).nullable(),
  current_value: z.number().nullable(),
  reference_value: z.number().nullable(),
  reason: z.string().nullable(),
});

export const statisticsResponse = z.object({
  meter_id: z.string(),
  period: z.enum(["day", "week", "month", "year"]),
  unit: z.string(),
  date_range: z.object({ start: localDate, end: localDate, start_utc: z.string(), end_utc: z.string() }),
  statistics: z.object({
    min: z.number().nullable(),
    max: z.number().nullable(),
    avg: z.number().nullable(),
    total: z.number(),
    count: z.number().int(),
  }),
  data_points: z.array(point),
  comparison: z.object({
    vs_previous_period: z.string().nullable(),
    vs_same_period_last_year: z.string().nullable(),
    previous_period: comparisonDetail,
    same_period_last_year: comparisonDetail,
  }),
});

export const anomaliesResponse = z.object({
  meter_id: z.string(),
  unit: z.string(),
  anomalies: z.array(
    z.object({
      day: localDate,
      timestamp: z.string(),
      value: z.number(),
      avg_7d: z.number(),
      variance_percent: z.number(),
      severity: z.enum(["minor", "major", "critical"]),
      message: z.string(),
    }),
  ),
  total_anomalies: z.number().int(),
  analysis_period: z.string(),
  avg_consumption: z.number().nullable(),
  threshold: z.number().nullable(),
  threshold_percent: z.number(),
});

export const syncResponse = z.object({
  meter_id: z.string(),
  status: z.enum(["done", "requested"]),
  date_range: z.object({ start: localDate, end: localDate }),
  requests_made: z.number().int().nullable(),
  synced_readings: z.number().int().nullable(),
  requests_left_today: z.number().int().nullable(),
  message: z.string(),
});

export const progressResponse = z.object({
  /** The next scheduled sync of any module (ISO 8601 UTC), or null when none is scheduled. */
  next_sync: z.string().nullable(),
  meters: z.array(
    z.object({
      meter_id: z.string(),
      resolutions: z.array(
        z.object({
          resolution: z.enum(["daily", "load_curve"]),
          days_held: z.number().int(),
          days_available: z.number().int().nullable(),
          percent: z.number().nullable(),
          requests_needed: z.number().int().nullable(),
          max_days_per_call: z.number().int().nullable(),
        }),
      ),
      daily_budget: z.number().int().nullable(),
      requests_left_today: z.number().int().nullable(),
      expected_finish: localDate.nullable(),
      sync_status: z.string(),
      last_sync: z.string().nullable(),
    }),
  ),
  accounts: z.array(
    z.object({
      id: z.string(),
      provider: z.string(),
      label: z.string(),
      status: z.string(),
      detail: z.string().nullable(),
      consent_expires: z.string().nullable(),
      updated: z.string(),
    }),
  ),
});

export const importResponse = z.object({
  meter_id: z.string(),
  file: z.string(),
  format: z.enum(["csv", "xlsx"]),
  readings: z.number().int(),
  inserted: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  first: z.string().nullable(),
  last: z.string().nullable(),
});
