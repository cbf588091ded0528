/**
 * Reading error bodies of Enedis and its gateways (enedis-2026.md §6, providers.md §1.7):
 * - Enedis, shape A: `{"error": "ADAM-ERR0123", "error_description": "…"}`;
 * - Enedis, shape B: `{"code": "900908", "message": "Resource forbidden ", "description": "…"}`;
 * - Conso API wrapper: `{"status": 403, "message": "The Enedis API returned an error", "error": <A|B or text>}`
 *   (its own errors: `{"status", "message"[, "error": <zod issues>]}`);
 * - MyElectricalData v2: `{"success": false, "error": {"code": "NO_DATA", "message": "…"}}`, any HTTP status;
 * - MyElectricalData legacy: `{"detail": "…"}`.
 * The code comes from `code` or `error`, the text from `message`, `error_description` or `description`.
 */

/** Code and human message of an error body. */
export interface ErrorInfo {
  /** Innermost provider code ("ADAM-ERR0123", "900908", "NO_DATA"), when one is given. */
  code: string | undefined;
  /** Every distinct text of the body joined by ": " (outer wrapper first), or the raw text. */
  message: string;
  /** True for a MyElectricalData `{success: false, error}` envelope. */
  medFailure: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);
/** A string that looks like a code (no spaces), not a sentence. */
const codeLike = (v: unknown): string | undefined => {
  const s = typeof v === "number" ? String(v) : str(v);
  return s !== undefined && /^[\w.-]{1,40}$/.test(s) ? s : undefined;
};

/** True for a MyElectricalData envelope `{success: boolean, …}` with `data` or `error`. */
export function isMedEnvelope(body: unknown): body is { success: boolean; data?: unknown; error?: unknown } {
  return isObj(body) && typeof body.success === "boolean" && ("data" in body || "error" in body);
}

/** Reads code and text of one Enedis-like error object (shapes A and B, MED `error`). */
function readEnedis(e: Obj, parts: string[]): string | undefined {
  const add = (v: unknown): void => {
    const s = str(v);
    if (s !== undefined && !parts.includes(s)) parts.push(s);
  };
  const code = codeLike(e.code) ?? codeLike(e.error);
  if (code !== undefined) add(code);
  else add(e.error);
  add(e.message);
  add(e.error_description);
  add(e.description);
  return code;
}

/**
 * Code and message of an error body; `text` (the raw body, truncated to 300 chars) when it holds
 * nothing readable.
 */
export function errorInfo(body: unknown, text: string): ErrorInfo {
  const parts: string[] = [];
  let code: string | undefined;
  let medFailure = false;
  if (isObj(body)) {
    if (isMedEnvelope(body as unknown) && body.success === false) {
      medFailure = true;
      if (isObj(body.error)) code = readEnedis(body.error, parts);
      else if (str(body.error)) parts.push(str(body.error)!);
    } else if (typeof body.status === "number" && "message" in body) {
      // Conso API: outer message, then the relayed Enedis body (object or text) or zod issues.
      const outer = str(body.message);
      if (outer !== undefined) parts.push(outer);
      const inner = body.error;
      if (isObj(inner)) {
        const before = parts.length;
        code = readEnedis(inner, parts);
        if (parts.length === before) parts.push(JSON.stringify(inner).slice(0, 300));
      } else if (str(inner) !== undefined && !parts.includes(str(inner)!)) {
        parts.push(str(inner)!);
      }
    } else {
      code = readEnedis(body, parts);
      if (typeof body.detail === "string") {
        if (!parts.includes(body.detail)) parts.push(body.detail);
      } else if (body.detail !== undefined) {
        parts.push(JSON.stringify(body.detail).slice(0, 300));
      }
      if (isObj(body.error)) {
        const before = parts.length;
        code = readEnedis(body.error, parts) ?? code;
        if (parts.length === before) parts.push(JSON.stringify(body.error).slice(0, 300));
      }
    }
  } else if (typeof body === "string" && body.trim() !== "") {
    parts.push(body.trim());
  }
  if (parts.length === 0 && text.trim() !== "") parts.push(text.length > 300 ? `${text.slice(0, 300)}…` : text);
  return { code, message: parts.length === 0 ? "(empty body)" : parts.join(": "), medFailure };
}

/**
 * "The range lies before the available history": Enedis activation date (`ADAM-ERR0123`), history
 * deadline (`ADAM-DC-0016`, `ADAM-ERR0125`), no measure (`no_data_found`, v2 404 "Pas de mesure
 * trouvée pour ce point"), MED `NO_DATA` and `DATE_TOO_OLD` (start beyond MED's 2/3-year window).
 */
const END_OF_HISTORY =
  /anterior to the meter's last activation date|ADAM-ERR0123|greater than the history deadline|ADAM-DC-0016|ADAM-ERR0125|no measure found for this usage point|no_data_found|Pas de mesure trouvée/i;
const END_OF_HISTORY_CODES = new Set(["NO_DATA", "DATE_TOO_OLD", "ADAM-ERR0123", "ADAM-DC-0016", "ADAM-ERR0125", "no_data_found"]);

/** True when the error says the range precedes the available history (see {@link END_OF_HISTORY}). */
export function isEndOfHistory(info: ErrorInfo): boolean {
  return (info.code !== undefined && END_OF_HISTORY_CODES.has(info.code)) || END_OF_HISTORY.test(info.message);
}

/** Enedis 403 `900908`: the API is not subscribed for the calling application on the DataHub. */
export function isNotSubscribed(info: ErrorInfo): boolean {
  return info.code === "900908" || /\b900908\b|API Subscription validation failed/i.test(info.message);
}

/**
 * The HTTP status an error should be classified by. For a MyElectricalData failure the body decides,
 * not the status (likely 200, unverified): `RATE_LIMIT_EXCEEDED` → 429, `ACCESS_DENIED` → 403,
 * `INVALID_DATE_*` → 400; `ENEDIS_ERROR`/unknown codes keep a ≥ 400 status, else are read from the
 * relayed Enedis text (not subscribed / not holder → 403, "SLA dépassé"/quota → 429, "Problème
 * technique" → 500, otherwise 400).
 */
export function effectiveStatus(status: number, info: ErrorInfo): number {
  if (!info.medFailure) return status;
  switch (info.code) {
    case "RATE_LIMIT_EXCEEDED":
      return 429;
    case "ACCESS_DENIED":
      return 403;
    case "INVALID_DATE_RANGE":
    case "INVALID_DATE_FORMAT":
      return 400;
    default:
      break;
  }
  if (status >= 400) return status;
  if (isNotSubscribed(info) || /titulaire|not authorized|consent/i.test(info.message)) return 403;
  if (/SLA dépassé|quota/i.test(info.message)) return 429;
  if (/problème technique|SI coeur|internal/i.test(info.message)) return 500;
  return 400;
}
