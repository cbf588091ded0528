/**
 * Server-side store of the `state` values of redirect flows (Enedis consent, Cozy, Ores): each
 * `state` (openid-client `randomState()`, 43 base64url chars) is bound to the browser session that
 * started the flow, usable once, and expires after {@link STATE_TTL_MS}. It holds what the callback
 * needs and the browser must never see: the PKCE `code_verifier` and flow data (a Cozy client id,
 * a redirect URI...). Memory only: a restart in the middle of a consent means the user starts again
 * (nothing is stored until the callback succeeds).
 *
 * Usage (one store per process, shared by every flow through `FlowDeps`):
 * ```ts
 * const { state, codeChallenge } = states.create({ provider: "cozy", sessionId, pkce: true, data: { instance } });
 * // ... authorize URL with state + code_challenge (S256) ...
 * const entry = states.consume(query.state, { provider: "cozy", sessionId }); // throws FlowError("state_mismatch")
 * entry.codeVerifier; entry.data.instance;
 * ```
 */
import * as oidc from "openid-client";
import { FlowError } from "./flow.js";

/** A `state` lives 10 minutes (ms): the user has that long to consent at the provider. */
export const STATE_TTL_MS = 10 * 60 * 1000;
/** At most this many pending states are kept (oldest dropped first), so a flood cannot grow memory. */
export const MAX_PENDING_STATES = 1000;

/** The plain sentence every rejected `state` gets (the page shows it; code `state_mismatch`). */
export const STATE_MISMATCH_MESSAGE =
  "This sign-in link is not valid any more (it was already used, it expired, or it was opened in another browser). Start connecting again from the add-on's page.";

/** What `create` returns: the `state` to send, and the S256 `code_challenge` when `pkce` was asked. */
export interface CreatedState {
  state: string;
  codeChallenge?: string;
}

/** What `consume` returns: the verifier (when `pkce`) and the flow's data given to `create`. */
export interface PendingState<D = Record<string, unknown>> {
  provider: string;
  sessionId: string;
  codeVerifier?: string;
  data: D;
  /** When it was created (epoch ms). */
  createdAt: number;
}

/** See the file comment. */
export interface OAuthStateStore {
  /**
   * A new single-use `state` for `provider`, bound to `sessionId`. With `pkce: true` a fresh
   * `code_verifier` is kept here and its S256 `code_challenge` returned. `data` is kept as given.
   * Throws Error when `sessionId` is empty.
   */
  create<D extends Record<string, unknown>>(opts: { provider: string; sessionId: string; pkce?: boolean; data?: D }): Promise<CreatedState>;
  /**
   * Takes the pending entry of `state` (removing it: a second call with the same value fails).
   * Throws `FlowError("state_mismatch", plain message)` when `state` is missing, unknown
   * (tampered, replayed), expired, of another provider, or of another session — and in that last
   * case the entry is NOT consumed (the real browser can still finish).
   */
  consume<D = Record<string, unknown>>(state: string | undefined, expect: { provider: string; sessionId: string }): PendingState<D>;
  /** Pending (unexpired) entries, for tests and health. */
  size(): number;
}

/** A memory store; `now` is the clock (epoch ms). */
export function createOAuthStateStore(now: () => number = Date.now): OAuthStateStore {
  const pending = new Map<string, PendingState & { expiresAt: number }>();
  const prune = () => {
    const t = now();
    for (const [k, v] of pending) if (v.expiresAt <= t) pending.delete(k);
    while (pending.size > MAX_PENDING_STATES) pending.delete(pending.keys().next().value as string);
  };
  const mismatch = () => new FlowError("state_mismatch", STATE_MISMATCH_MESSAGE);
  return {
    async create(opts) {
      if (!opts.sessionId) throw new Error("a state must be bound to a browser session: sessionId is empty");
      prune();
      const state = oidc.randomState();
      const entry: PendingState & { expiresAt: number } = {
        provider: opts.provider,
        sessionId: opts.sessionId,
        data: { ...(opts.data ?? {}) },
        createdAt: now(),
        expiresAt: now() + STATE_TTL_MS,
      };
      const out: CreatedState = { state };
      if (opts.pkce) {
        entry.codeVerifier = oidc.randomPKCECodeVerifier();
        out.codeChallenge = await oidc.calculatePKCECodeChallenge(entry.codeVerifier);
      }
      pending.set(state, entry);
      prune();
      return out;
    },
    consume<D>(state: string | undefined, expect: { provider: string; sessionId: string }): PendingState<D> {
      if (typeof state !== "string" || state === "") throw mismatch();
      const entry = pending.get(state);
      if (!entry) throw mismatch();
      if (entry.expiresAt <= now()) {
        pending.delete(state);
        throw mismatch();
      }
      if (entry.provider !== expect.provider || entry.sessionId !== expect.sessionId || !expect.sessionId) throw mismatch();
      pending.delete(state);
      const { expiresAt: _e, ...rest } = entry;
      void _e;
      return rest as PendingState<D>;
    },
    size() {
      prune();
      return pending.size;
    },
  };
}
