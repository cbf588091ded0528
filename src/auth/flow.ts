/**
 * The contract between the web module (pages, callbacks) and each account connection flow
 * (Enedis Data Connect consent v2, Cozy/Ecolyo, Ores, Tado device code, pasted gateway tokens).
 * Flows are built on openid-client; the web module only moves browser input in and results out.
 * Flows never see the browser's cookies, only an opaque `sessionId` that `state` is bound to.
 */
import type { Account, AccountProvider } from "../domain/types.js";
import type { StoredTokens, TokenSet } from "./token-vault.js";

/** What the browser must do next after `begin`. Instants are UTC epoch ms. */
export type FlowStart =
  /** Send the browser to `url` (the provider's authorize / consent page). */
  | { kind: "redirect"; url: string }
  /** RFC 8628: show `userCode` and the link, count down to `expiresAt`, poll with `flowId`. */
  | {
      kind: "device";
      flowId: string;
      userCode: string;
      verificationUri: string;
      verificationUriComplete?: string;
      expiresAt: number;
      /** Seconds between polls, as the provider asked (raised by `slow_down`). */
      interval: number;
    }
  /** Nothing more to do (a pasted gateway token): the account is connected. */
  | { kind: "done"; account: Account };

/** Per-request context the web module gives a flow. */
export interface FlowRequest {
  /** Opaque id of the browser session (cookie-bound); `state` is bound to it. */
  sessionId: string;
  /** Absolute URL the provider must redirect back to (the add-on's callback for this provider). */
  callbackUrl: string;
}

/** One form field of a provider on the accounts page. */
export interface FlowInput {
  /** Key in `begin`'s `input`. */
  name: string;
  label: { en: string; fr: string };
  type: "text" | "password" | "url";
  /** Optional fields may be left empty. */
  optional?: boolean;
}

/** How the accounts page presents a provider (GET api/accounts `providers[]`). */
export interface FlowUi {
  label: string;
  kind: "redirect" | "device" | "token";
  inputs: FlowInput[];
}

/** Result of polling a device flow. */
export type DevicePoll =
  | { status: "pending"; interval: number }
  | { status: "connected"; account: Account }
  | { status: "expired" | "denied" | "cancelled" | "error"; message: string };

/**
 * One provider's flow. Errors the user should read are thrown as `FlowError` with a plain
 * sentence (en) and a stable `code` the page translates.
 */
export interface AccountFlow {
  readonly provider: AccountProvider;
  /** How the page shows it; absent = the accounts module's default for this provider (modules/accounts/provider-catalog.ts). */
  readonly ui?: FlowUi;
  /** Starts connecting; `input` is what the page form gave (e.g. `{ instance: "alice.mycozy.cloud" }`). */
  begin(input: Record<string, string>, req: FlowRequest): Promise<FlowStart>;
  /** The provider redirected back with `query`; validates `state` (single use, bound to the session). */
  callback?(query: Record<string, string>, req: FlowRequest): Promise<Account>;
  /** Polls a device flow started by `begin`. */
  poll?(flowId: string, req: FlowRequest): Promise<DevicePoll>;
  /** Cancels a device flow. */
  cancel?(flowId: string, req: FlowRequest): void;
  /** Disconnects: revokes / unregisters at the provider where it can, then forgets the tokens. */
  disconnect(account: Account): Promise<void>;
  /**
   * Renews the tokens of `account` at the provider's token endpoint (openid-client
   * `refreshTokenGrant`), given the current decrypted set; the refresh job (auth/refresh-job.ts)
   * calls it through `vault.refresh` (coalesced, rotated tokens committed before use). Throw the
   * openid-client error as is: 400 `invalid_grant` / 401 / 403 mark the account `revoked`; a
   * network error is retried later. Absent = the provider's tokens cannot be refreshed.
   */
  refresher?(account: Account, current: StoredTokens): Promise<TokenSet>;
}

/** A flow failure the user reads. `code`: e.g. `state_mismatch`, `consent_expired`, `access_denied`. */
export class FlowError extends Error {
  override readonly name = "FlowError";
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
