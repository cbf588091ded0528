/**
 * Error codes a provider may raise. The sync job maps them to user-facing states:
 * - `auth`: 401/403, token invalid or consent revoked; stop until the user acts.
 * - `quota_exceeded`: 429 with a Retry-After beyond what we wait for; retry next cycle.
 * - `budget_exhausted`: our own daily request budget is spent; continue tomorrow.
 * - `unavailable`: 5xx, timeouts, network errors after retries; retry next cycle.
 * - `bad_request`: the provider rejected our parameters (range too long, bad dates).
 * - `invalid_prm`: the provider does not know this PRM / usage point, or answered for another.
 * - `invalid_response`: malformed JSON or a shape we cannot read.
 */
export type ProviderErrorCode =
  | "auth"
  | "quota_exceeded"
  | "budget_exhausted"
  | "unavailable"
  | "bad_request"
  | "invalid_prm"
  | "invalid_response";

/** Failure of a provider call, with a message meant for the user's log. */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    readonly code: ProviderErrorCode,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; body?: string } = {},
  ) {
    super(message);
  }
}
