/**
 * The one HTTP helper every provider gateway uses: global `fetch` (so msw intercepts it in tests),
 * admission through the RequestGate before every attempt, per-attempt timeout, retries with
 * p-retry (exponential backoff with jitter), 429 Retry-After handling, and mapping of HTTP
 * failures to ProviderError codes. Enedis "end of history" errors (also when wrapped by a
 * gateway) come back as an outcome, not an error.
 */
import pRetry, { AbortError } from "p-retry";
import type { RequestGate } from "../domain/types.js";
import { ProviderError } from "../domain/errors.js";
import { parseJsonBody } from "./enedis-meter-reading.js";
import { effectiveStatus, errorInfo, isEndOfHistory, isMedEnvelope, isNotSubscribed } from "./enedis-errors.js";

/** Version sent in `User-Agent: energy-bridge/<version>` (keep in step with package.json). */
export const ENERGY_BRIDGE_VERSION = "0.1.0";

/** Retry timing; every field is injectable so tests do not sleep for real. */
export interface RetryOptions {
  /** Retries after the first attempt for 5xx, network errors and timeouts. Default 3. */
  retries?: number;
  /** First backoff delay in ms (doubled each retry, randomized ×1–2). Default 1000. */
  minTimeout?: number;
  /** Largest backoff delay in ms. Default 30 000. */
  maxTimeout?: number;
  /** Longest 429 Retry-After we wait for, in ms; beyond it → `quota_exceeded`. Default 60 000. */
  maxRetryAfterMs?: number;
  /** How many 429 waits one request may do before giving up with `quota_exceeded`. Default 3. */
  max429Waits?: number;
  /** Sleep used for Retry-After waits. Default: global setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

/** Options shared by every provider's HTTP calls. */
export interface HttpOptions {
  retry?: RetryOptions;
  /** Per-attempt timeout in ms (AbortSignal.timeout). Default 30 000. */
  timeoutMs?: number;
  /** Clock (UTC epoch ms) for HTTP-date Retry-After. Default Date.now. */
  now?: () => number;
}

/** One request through {@link requestJson}. */
export interface JsonRequest {
  url: string;
  headers?: Record<string, string>;
  gate: RequestGate;
  /** Provider name for messages, e.g. "Conso API". */
  source: string;
  /** Builds the `auth` message from the HTTP status and the provider's own message. */
  describeAuth?: (status: number, providerMessage: string) => string;
}

/** Result of {@link requestJson}: a parsed 2xx JSON body, or the provider saying "no older data". */
export type JsonOutcome =
  | { kind: "ok"; status: number; body: unknown }
  | { kind: "end_of_history"; status: number; message: string };

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads the human message out of an error body: Enedis `{"error","error_description"}` and
 * `{"code","message","description"}`, Conso API `{"status","message","error": <Enedis body, text
 * or zod issues>}`, MyElectricalData `{"success":false,"error":{"code","message"}}` and legacy
 * `{"detail": "…"}`; falls back to the raw text (truncated). See {@link errorInfo}.
 */
export function providerMessage(body: unknown, text: string): string {
  return errorInfo(body, text).message;
}

/**
 * Parses `Retry-After` (delta seconds or HTTP date) into ms from `now`; undefined if absent/invalid.
 */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const h = header.trim();
  if (/^\d+$/.test(h)) return Number(h) * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Runs `attempt` with the retry policy: a ProviderError `unavailable` is retried up to
 * `retries` times with exponential backoff (factor 2, jitter); any other error stops at once.
 * After the last retry the last `unavailable` error is thrown.
 */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, retry: RetryOptions = {}): Promise<T> {
  return pRetry(
    async (n) => {
      try {
        return await attempt(n);
      } catch (error) {
        if (error instanceof ProviderError && error.code === "unavailable") throw error;
        throw new AbortError(error instanceof Error ? error : new Error(String(error)));
      }
    },
    {
      retries: retry.retries ?? 3,
      factor: 2,
      minTimeout: retry.minTimeout ?? 1000,
      maxTimeout: retry.maxTimeout ?? 30_000,
      randomize: true,
    },
  );
}

/**
 * GET a JSON resource.
 *
 * Every HTTP attempt (first, retries, after a 429 wait) first calls `gate.acquire()`, whose
 * `budget_exhausted` error stops everything. Sends `User-Agent: energy-bridge/<version>` and
 * `Accept: application/json`.
 *
 * @returns `ok` with the parsed body for 2xx (unless it is a MyElectricalData `{success: false}`
 *   envelope: `success` decides, not the status); `end_of_history` for a 4xx (or MED failure) whose
 *   code or message says the range precedes the meter activation / history deadline or that no
 *   measure exists (ADAM-ERR0123, ADAM-DC-0016, ADAM-ERR0125, no_data_found, "Pas de mesure
 *   trouvée", MED NO_DATA / DATE_TOO_OLD; see `enedis-errors.ts`).
 * @throws ProviderError `unavailable` (5xx, network error, timeout, after retries),
 *   `quota_exceeded` (429 or MED RATE_LIMIT_EXCEEDED, with Retry-After beyond `maxRetryAfterMs` or
 *   absent; `retryAfterMs` set when known), `auth` (401/403, MED ACCESS_DENIED, not retried; Enedis
 *   900908 = API not subscribed on the DataHub, said so), `bad_request` (other 4xx, provider's message),
 *   `invalid_response` (2xx with malformed JSON), `budget_exhausted` (from the gate).
 */
export async function requestJson(req: JsonRequest, opts: HttpOptions = {}): Promise<JsonOutcome> {
  const retry = opts.retry ?? {};
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxRetryAfterMs = retry.maxRetryAfterMs ?? 60_000;
  const max429Waits = retry.max429Waits ?? 3;
  const sleep = retry.sleep ?? defaultSleep;
  const now = opts.now ?? Date.now;
  const headers = {
    Accept: "application/json",
    "User-Agent": `energy-bridge/${ENERGY_BRIDGE_VERSION}`,
    ...req.headers,
  };

  /** One HTTP exchange; network failures and timeouts become `unavailable`. */
  const once = async (): Promise<{ res: Response; text: string }> => {
    req.gate.acquire();
    try {
      const res = await fetch(req.url, { method: "GET", headers, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      return { res, text };
    } catch (error) {
      const e = error as Error;
      const what = e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : `network error: ${e.message}`;
      throw new ProviderError("unavailable", `${req.source} unreachable (${what})`);
    }
  };

  return withRetry(async () => {
    for (let waits = 0; ; waits++) {
      const { res, text } = await once();
      const httpStatus = res.status;
      let body: unknown;
      if (httpStatus >= 200 && httpStatus < 300) {
        body = parseJsonBody(text, req.source);
        // MyElectricalData: `success`, not the HTTP status, says whether the call worked.
        if (!isMedEnvelope(body) || body.success) return { kind: "ok", status: httpStatus, body } as const;
      } else {
        try {
          body = JSON.parse(text) as unknown;
        } catch {
          body = undefined;
        }
      }
      const info = errorInfo(body, text);
      const message = info.message;
      const status = effectiveStatus(httpStatus, info);
      const details = { status: httpStatus, body: text.slice(0, 1000) };

      if (isEndOfHistory(info) && httpStatus < 500) {
        return { kind: "end_of_history", status: httpStatus, message } as const;
      }
      if (status === 429) {
        const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), now());
        if (retryAfterMs !== undefined && retryAfterMs <= maxRetryAfterMs && waits < max429Waits) {
          await sleep(retryAfterMs);
          continue;
        }
        const when = retryAfterMs === undefined ? "" : `, retry after ${Math.ceil(retryAfterMs / 1000)} s`;
        throw new ProviderError("quota_exceeded", `${req.source} quota exceeded (HTTP ${httpStatus}: ${message}${when})`, {
          ...details,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        });
      }
      if (status >= 500) {
        throw new ProviderError("unavailable", `${req.source} failed (HTTP ${httpStatus}: ${message})`, details);
      }
      if (isEndOfHistory(info)) {
        return { kind: "end_of_history", status: httpStatus, message } as const;
      }
      if (isNotSubscribed(info)) {
        throw new ProviderError(
          "auth",
          `${req.source}: Enedis refused the call because this API is not subscribed for the application on the ` +
            `Enedis DataHub (code 900908); the application's owner must subscribe it on datahub-enedis.fr ` +
            `(HTTP ${httpStatus}: ${message})`,
          details,
        );
      }
      if (status === 401 || status === 403) {
        const text401 = req.describeAuth
          ? req.describeAuth(httpStatus, message)
          : `${req.source}: token invalid or consent revoked (HTTP ${httpStatus}: ${message})`;
        throw new ProviderError("auth", text401, details);
      }
      throw new ProviderError("bad_request", `${req.source} rejected the request (HTTP ${httpStatus}: ${message})`, details);
    }
  }, retry);
}
