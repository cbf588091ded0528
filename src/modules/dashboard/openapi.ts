/**
 * The OpenAPI 3.1 document of the dashboard API (served at `api/openapi.json`), built from the
 * same zod schemas the routes use (schemas.ts → zod-json-schema.ts), so the description cannot
 * drift from what is checked. Server URL is relative (`./`): the API lives under the ingress prefix.
 */
import type { ZodTypeAny } from "zod";
import * as S from "./schemas.js";
import { toJsonSchema, type JsonSchema } from "./zod-json-schema.js";

const COMPONENTS: Record<string, ZodTypeAny> = {
  Error: S.errorSchema,
  Meters: S.metersResponse,
  Readings: S.readingsResponse,
  Statistics: S.statisticsResponse,
  Anomalies: S.anomaliesResponse,
  SyncReport: S.syncResponse,
  Progress: S.progressResponse,
  ImportReport: S.importResponse,
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string, description: string) => ({ description, content: { "application/json": { schema: ref(name) } } });
const errors = {
  "400": json("Error", "Invalid PRM or parameter"),
  "404": json("Error", "Unknown meter"),
  "503": json("Error", "Provider unavailable"),
};
const idParam = { name: "id", in: "path", required: true, description: "Meter id: a 14-digit PRM (Linky), `<prm>_production`, or another provider's id", schema: { type: "string" } };
const q = (name: string, description: string, schema: JsonSchema, required = false) => ({ name, in: "query", required, description, schema });
const dateParam = (name: string) => q(name, "Local date YYYY-MM-DD in the meter's zone, or an ISO 8601 instant", { type: "string" }, true);

let cached: Record<string, unknown> | undefined;

/** See the file comment. */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const schemas = Object.fromEntries(Object.entries(COMPONENTS).map(([k, v]) => [k, toJsonSchema(v)]));
  cached = {
    openapi: "3.1.0",
    info: { title: "Energy Bridge dashboard API", version: "1", description: "Meters, readings, period statistics with comparisons, anomalies, manual sync, import and export." },
    servers: [{ url: "./" }],
    paths: {
      "/api/meters": { get: { operationId: "listMeters", responses: { "200": json("Meters", "Every meter") } } },
      "/api/meters/{id}/readings": {
        get: {
          operationId: "readings",
          parameters: [idParam, dateParam("from"), dateParam("to"), q("page", "1-based page", { type: "integer", minimum: 1 }), q("per_page", "Readings per page", { type: "integer", minimum: 1, maximum: 1000 })],
          responses: { "200": json("Readings", "A page of readings, ordered by start"), ...errors },
        },
      },
      "/api/meters/{id}/statistics": {
        get: {
          operationId: "statistics",
          parameters: [idParam, q("period", "Local calendar period", { type: "string", enum: ["day", "week", "month", "year"] }, true), dateParam("from"), dateParam("to")],
          responses: { "200": json("Statistics", "Statistics per period, widened to whole periods"), ...errors },
        },
      },
      "/api/meters/{id}/anomalies": {
        get: {
          operationId: "anomalies",
          parameters: [idParam, q("days", "Local days before today to judge", { type: "integer", minimum: 1 }), q("threshold", "Percent of the 7-day average", { type: "number", minimum: 101 })],
          responses: { "200": json("Anomalies", "Anomalous days, newest first"), ...errors },
        },
      },
      "/api/meters/{id}/sync": {
        post: {
          operationId: "sync",
          parameters: [idParam],
          requestBody: { required: true, content: { "application/json": { schema: toJsonSchema(S.syncBody) } } },
          responses: { "200": json("SyncReport", "Synced"), "202": json("SyncReport", "Requested"), "429": json("Error", "Request budget spent"), ...errors },
        },
      },
      "/api/meters/{id}/export.csv": {
        get: {
          operationId: "exportCsv",
          parameters: [idParam, dateParam("from"), dateParam("to"), q("kind", "readings or statistics", { type: "string", enum: ["readings", "statistics"] }), q("period", "For statistics", { type: "string", enum: ["day", "week", "month", "year"] })],
          responses: { "200": { description: "UTF-8 CSV", content: { "text/csv": { schema: { type: "string" } } } }, ...errors },
        },
      },
      "/api/meters/{id}/import": {
        post: {
          operationId: "importFile",
          parameters: [idParam, q("name", "File name (.csv or .xlsx)", { type: "string" })],
          requestBody: { required: true, content: { "text/csv": { schema: { type: "string" } }, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": { schema: { type: "string", format: "binary" } } } },
          responses: { "200": json("ImportReport", "Imported"), ...errors },
        },
      },
      "/api/progress": { get: { operationId: "progress", responses: { "200": json("Progress", "Backfill progress and accounts") } } },
    },
    components: { schemas },
  };
  return cached;
}
