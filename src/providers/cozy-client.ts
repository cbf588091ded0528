/**
 * The Cozy stack's data API as Ecolyo needs it: Mango indexes and `_find` queries (cozy-stack
 * `docs/mango.md`, `docs/data-system.md`; project provider reference §4.5).
 *
 * - `POST {instance}/data/{doctype}/_index` `{"index":{"fields":[…]}}` → `{"result":"created"|"exists","id":"_design/…","name":…}`;
 * - `POST {instance}/data/{doctype}/_find` `{"selector","sort","limit" ≤ 1000,"use_index","bookmark"?}`
 *   → `{"docs":[…],"limit","next":bool,"bookmark"}`; `next: true` = another page with `bookmark`.
 * - errors `{"status","error","reason",…}` (JSON:API-ish) or `{"error":"<message>"}`; 401/403 =
 *   token refused; 400 when no index matches the query.
 *
 * Every HTTP request goes through global `fetch` (msw intercepts it in unit tests), is admitted
 * by the RequestGate first, and is retried (5xx, network, timeout) with p-retry via `withRetry`.
 */
import { z } from "zod";
import { ProviderError } from "../domain/errors.js";
import type { RequestGate } from "../domain/types.js";
import { ENERGY_BRIDGE_VERSION, withRetry, type HttpOptions } from "./http.js";

/** Largest `limit` the Cozy stack accepts for `_find` (mango.md: "max 1000"). */
export const MANGO_MAX_LIMIT = 1000;

/** Where the token comes from: `get` the current one, `renew` after a 401 (the vault's refresh). */
export interface CozyTokenSource {
  get(): Promise<string>;
  renew?(): Promise<string>;
}

/** Options of {@link CozyClient}. */
export interface CozyClientOptions extends HttpOptions {
  /** The instance URL, e.g. `https://alice-ecolyo.mycozy.cloud` (no trailing slash needed). */
  instance: string;
  token: CozyTokenSource;
}

const findAnswer = z.object({
  docs: z.array(z.unknown()),
  next: z.boolean().optional(),
  bookmark: z.string().optional(),
});
const indexAnswer = z.object({ id: z.string(), result: z.string().optional() });

/** The client; one per account (it caches the index ids it created). */
export class CozyClient {
  readonly instance: string;
  readonly #indexes = new Map<string, string>();

  constructor(private readonly opts: CozyClientOptions) {
    this.instance = opts.instance.replace(/\/+$/, "");
  }

  /**
   * The id of a Mango index on `fields` of `doctype`, created when missing (the stack answers
   * `exists` for one already there, so this is idempotent). Cached for the client's life.
   */
  async ensureIndex(doctype: string, fields: readonly string[], gate: RequestGate): Promise<string> {
    const key = `${doctype} ${fields.join(",")}`;
    const known = this.#indexes.get(key);
    if (known) return known;
    const body = await this.post(`/data/${encodeURIComponent(doctype)}/_index`, { index: { fields } }, gate);
    const parsed = indexAnswer.safeParse(body);
    if (!parsed.success) throw new ProviderError("invalid_response", `Cozy: unexpected answer creating an index on ${doctype}`);
    this.#indexes.set(key, parsed.data.id);
    return parsed.data.id;
  }

  /**
   * Every doc matching `selector`, following `bookmark` while the stack says `next: true`
   * (`limit` ≤ {@link MANGO_MAX_LIMIT} per page). `maxDocs` stops early (e.g. 1 for "the oldest").
   * Throws ProviderError (see {@link post}; `invalid_response` for a body without `docs`).
   */
  async find(
    doctype: string,
    query: { selector: Record<string, unknown>; sort: Record<string, "asc" | "desc">[]; useIndex: string; limit?: number; maxDocs?: number },
    gate: RequestGate,
  ): Promise<{ docs: unknown[]; pages: number }> {
    const limit = Math.min(query.limit ?? MANGO_MAX_LIMIT, MANGO_MAX_LIMIT);
    const docs: unknown[] = [];
    let bookmark: string | undefined;
    let pages = 0;
    for (;;) {
      const body = await this.post(
        `/data/${encodeURIComponent(doctype)}/_find`,
        { selector: query.selector, sort: query.sort, limit, use_index: query.useIndex, ...(bookmark ? { bookmark } : {}) },
        gate,
      );
      pages++;
      const parsed = findAnswer.safeParse(body);
      if (!parsed.success) throw new ProviderError("invalid_response", `Cozy: the _find answer on ${doctype} has no docs list`);
      docs.push(...parsed.data.docs);
      if (query.maxDocs !== undefined && docs.length >= query.maxDocs) return { docs: docs.slice(0, query.maxDocs), pages };
      // `next` is the stack's "more pages" flag; a full page without it is treated the same way.
      const more = parsed.data.next ?? parsed.data.docs.length === limit;
      if (!more || !parsed.data.bookmark || parsed.data.docs.length === 0 || parsed.data.bookmark === bookmark) return { docs, pages };
      bookmark = parsed.data.bookmark;
    }
  }

  /**
   * POSTs JSON with the Bearer token. On 401 renews the token once (when the source can) and
   * retries. Throws ProviderError: `auth` (401 after renewal, 403: token refused or the doctype not
   * granted; the message says to reconnect), `bad_request` (other 4xx, with the stack's message),
   * `quota_exceeded` (429), `unavailable` (5xx, network, timeout — after retries),
   * `invalid_response` (2xx whose body is not JSON), `budget_exhausted` (from the gate).
   */
  async post(path: string, payload: unknown, gate: RequestGate): Promise<unknown> {
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    let token = await this.opts.token.get();
    let renewed = false;
    return withRetry(async () => {
      for (;;) {
        gate.acquire();
        let res: Response;
        let text: string;
        try {
          res = await fetch(`${this.instance}${path}`, {
            method: "POST",
            headers: {
              Accept: "application/json",
              "Content-Type": "application/json",
              Authorization: `Bearer ${token}`,
              "User-Agent": `energy-bridge/${ENERGY_BRIDGE_VERSION}`,
            },
            body: JSON.stringify(payload),
            signal: AbortSignal.timeout(timeoutMs),
          });
          text = await res.text();
        } catch (error) {
          const e = error as Error;
          const what = e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : `network error: ${e.message}`;
          throw new ProviderError("unavailable", `Cozy ${this.instance} unreachable (${what})`);
        }
        const details = { status: res.status, body: text.slice(0, 500) };
        if (res.ok) {
          try {
            return JSON.parse(text) as unknown;
          } catch {
            throw new ProviderError("invalid_response", `Cozy ${this.instance} answered ${path} with malformed JSON`, details);
          }
        }
        const message = cozyErrorMessage(text);
        if (res.status === 401 && !renewed && this.opts.token.renew) {
          renewed = true;
          token = await this.opts.token.renew();
          continue;
        }
        if (res.status === 401 || res.status === 403) {
          throw new ProviderError(
            "auth",
            `Cozy ${this.instance} refused the access (HTTP ${res.status}: ${message}); reconnect the Ecolyo account from the add-on's page`,
            details,
          );
        }
        if (res.status === 429) throw new ProviderError("quota_exceeded", `Cozy ${this.instance} is rate limiting (HTTP 429: ${message})`, details);
        if (res.status >= 500) throw new ProviderError("unavailable", `Cozy ${this.instance} failed (HTTP ${res.status}: ${message})`, details);
        throw new ProviderError("bad_request", `Cozy ${this.instance} rejected ${path} (HTTP ${res.status}: ${message})`, details);
      }
    }, this.opts.retry);
  }
}

/** The human part of a Cozy error body: `reason`/`detail`, `error` (a non-RFC sentence), or the text. */
export function cozyErrorMessage(text: string): string {
  try {
    const b = JSON.parse(text) as Record<string, unknown>;
    const errors = Array.isArray(b.errors) ? (b.errors[0] as Record<string, unknown> | undefined) : undefined;
    for (const v of [b.reason, b.detail, b.details, errors?.detail, b.error, b.title]) if (typeof v === "string" && v) return v;
  } catch {
    // not JSON
  }
  return text.slice(0, 200) || "no message";
}
