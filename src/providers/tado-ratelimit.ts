/**
 * Tado's rate-limit headers (2025 onward), in the IETF `RateLimit` / `RateLimit-Policy` draft
 * shape (sources: home-assistant/core#162858, node-tado `src/base.ts`, libtado PR #532; the
 * project's providers reference §5.4 and platform reference §4):
 *
 *   RateLimit-Policy: "perday";q=20000;w=86400     q = quota, w = window (s)
 *   RateLimit:        "perday";r=15211;t=43200     r = remaining, t = seconds to the reset
 *
 * `t` appears only once the limit has been hit (exabird/ha-tado-x#48), so it is optional here.
 */

/** What one response said about the quota. Absent fields = not in the headers. */
export interface RateLimitInfo {
  /** Policy name, e.g. "perday". */
  policy?: string;
  /** Requests allowed per window (`q`). */
  quota?: number;
  /** Window length in seconds (`w`). */
  windowS?: number;
  /** Requests left in the current window (`r`). */
  remaining?: number;
  /** Seconds until the window resets (`t`). */
  resetS?: number;
}

/** Parses `"name";k=v;k=v` (first item of a list); non-integer parameters are ignored. */
function parseItem(value: string | null): { name?: string; params: Map<string, number> } {
  const params = new Map<string, number>();
  if (!value) return { params };
  const first = value.split(",")[0] ?? "";
  const [rawName = "", ...parts] = first.split(";").map((s) => s.trim());
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const raw = part.slice(eq + 1).trim().replace(/^"|"$/g, "");
    if (!/^[0-9]+$/.test(raw)) continue;
    params.set(key, Number(raw));
  }
  const name = rawName.replace(/^"|"$/g, "");
  return name ? { name, params } : { params };
}

/** Reads both headers of a response; never throws (malformed parts are left out). */
export function parseRateLimit(headers: Headers): RateLimitInfo {
  const policy = parseItem(headers.get("ratelimit-policy"));
  const limit = parseItem(headers.get("ratelimit"));
  const info: RateLimitInfo = {};
  const name = limit.name ?? policy.name;
  if (name) info.policy = name;
  const set = (key: keyof RateLimitInfo, v: number | undefined) => {
    if (v !== undefined) (info as Record<string, unknown>)[key] = v;
  };
  set("quota", policy.params.get("q"));
  set("windowS", policy.params.get("w"));
  set("remaining", limit.params.get("r"));
  set("resetS", limit.params.get("t"));
  return info;
}

/** `Retry-After` in seconds (delta-seconds or an HTTP date relative to `now`, epoch ms), or undefined. */
export function parseRetryAfter(headers: Headers, now: number): number | undefined {
  const v = headers.get("retry-after");
  if (!v) return undefined;
  if (/^[0-9]+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
