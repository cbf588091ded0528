/**
 * Path parameter checks shared by the dashboard's API routes: a meter id is either a Linky series
 * (14-digit PRM, optionally `_production`) or another provider's id (letters, digits, `_ . : -`,
 * at most 100). An id made only of digits that is not 14 long is an invalid PRM (400); a
 * well-formed id the store does not know is an unknown meter (404).
 */
import type { Meter } from "../../domain/types.js";
import type { Db } from "../../store/db.js";
import { listMeters } from "../../store/meters.js";

/** An error the API answers with `status` and `{ error, message }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

const ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/** The meter `id` names, or throws ApiError 400 (invalid PRM / id) or 404 (unknown meter). */
export function findMeter(db: Db, id: string): Meter {
  const prmPart = id.replace(/_production$/, "");
  if (/^\d+$/.test(prmPart) && prmPart.length !== 14) {
    throw new ApiError(400, "invalid_prm", `"${id}" is not a valid PRM: a Linky PRM has exactly 14 digits`);
  }
  if (!ID.test(id)) throw new ApiError(400, "invalid_meter_id", `"${id.slice(0, 40)}" is not a valid meter id`);
  const meter = listMeters(db).find((m) => m.id === id);
  if (!meter) throw new ApiError(404, "unknown_meter", `no meter "${id}" is configured`);
  return meter;
}

/**
 * Display unit and factor of a meter from its store unit: Wh → kWh (× 0.001); gas stored in L
 * (Ecolyo stores m³ × 1000) → m³ (× 0.001); water in L and anything in m³ as stored.
 */
export function displayUnit(meter: Pick<Meter, "unit" | "kind">): { unit: string; factor: number } {
  if (meter.unit === "Wh") return { unit: "kWh", factor: 0.001 };
  if (meter.kind === "gas" && meter.unit === "L") return { unit: "m³", factor: 0.001 };
  return { unit: meter.unit, factor: 1 };
}
