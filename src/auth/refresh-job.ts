/**
 * The token refresh job (issue #7, seed 003 "Refresh automatique"): every 15 minutes and at start,
 * the access tokens expiring within {@link REFRESH_WINDOW_MS} (2 h) are renewed through their
 * provider's refresher (AccountFlow.refresher) inside `vault.refresh` (coalesced per account; a
 * rotated refresh token is committed before the new access token is used). Then it checks the
 * long expiries (consent, refresh token, a gateway token's own expiry): within
 * {@link EXPIRY_WARNING_MS} (7 days) → `token_expiring` once per account and expiry, status
 * `expiring`; past → status `revoked`.
 *
 * Failures: 400 `invalid_grant` (or a non-RFC "invalid refresh token"), 401, 403 → the account is
 * `revoked` with a plain detail and an `account_status` event; network errors, timeouts and 5xx
 * leave the status alone (the next pass retries); an undecryptable vault row → `error`.
 */
import { Cron } from "croner";
import { DateTime } from "luxon";
import * as oidc from "openid-client";
import type { Account } from "../domain/types.js";
import type { Logger } from "../log.js";
import type { EventBus } from "../modules/events.js";
import { getAccount, listAccounts } from "../store/accounts.js";
import type { Db } from "../store/db.js";
import { changeAccountStatus } from "./flows/account-store.js";
import { REFRESH_WINDOW_MS, VaultError, type StoredTokens, type TokenSet, type TokenVault } from "./token-vault.js";

/** Warn this long (ms) before a consent / refresh token / gateway token expires: 7 days. */
export const EXPIRY_WARNING_MS = 7 * 24 * 60 * 60 * 1000;
/** The job's croner pattern: every 15 minutes. */
export const REFRESH_PATTERN = "*/15 * * * *";

/** A provider's refresher (AccountFlow.refresher). */
export type Refresher = (account: Account, current: StoredTokens) => Promise<TokenSet>;

/** What the job needs. `refreshers`: by provider id. `now`: UTC epoch ms. */
export interface RefreshJobDeps {
  db: Db;
  vault: TokenVault;
  events: EventBus;
  log: Logger;
  now: () => number;
  refreshers: ReadonlyMap<string, Refresher>;
}

/** What one pass did, by account id. */
export interface RefreshReport {
  refreshed: string[];
  revoked: string[];
  /** Left for the next pass (network error, provider down). */
  retry: string[];
  /** `token_expiring` emitted. */
  warned: string[];
}

/**
 * How a refresher failure is handled: `revoked` (the provider refused the grant: the user must
 * connect again), `error` (unusable local data), `retry` (anything transient).
 */
export function classifyRefreshError(err: unknown): "revoked" | "error" | "retry" {
  if (err instanceof VaultError) return "error";
  if (err instanceof oidc.ResponseBodyError) {
    if (err.status === 401 || err.status === 403) return "revoked";
    if (err.error === "invalid_grant" || /invalid.?(grant|refresh|token)/i.test(err.error)) return "revoked";
    if (err.status >= 400 && err.status < 500 && err.error === "invalid_client") return "error";
    return "retry";
  }
  if (err instanceof oidc.WWWAuthenticateChallengeError) return err.status === 401 || err.status === 403 ? "revoked" : "retry";
  const status = (err as { status?: unknown } | null)?.status;
  if (status === 401 || status === 403) return "revoked";
  return "retry";
}

/**
 * When an account stops working without the user (epoch ms), or null when unknown/never:
 * `config.consentExpiresAt` (Enedis), else the refresh token's expiry, else — without a refresh
 * token — the access token's (a pasted gateway token).
 */
export function accountExpiry(account: Account, tokens: StoredTokens | undefined): number | null {
  const consent = account.config.consentExpiresAt;
  if (typeof consent === "number" && Number.isFinite(consent)) return consent;
  if (!tokens) return null;
  if (tokens.refreshExpiresAt !== undefined) return tokens.refreshExpiresAt;
  if (!tokens.refreshToken && tokens.expiresAt !== undefined) return tokens.expiresAt;
  return null;
}

const when = (ms: number) => DateTime.fromMillis(ms, { zone: "UTC" }).toFormat("yyyy-LL-dd HH:mm 'UTC'");

/** See the file comment. */
export class RefreshJob {
  readonly #deps: RefreshJobDeps;
  readonly #warned = new Set<string>();
  #cron: Cron | undefined;
  #running: Promise<RefreshReport> | undefined;

  constructor(deps: RefreshJobDeps) {
    this.#deps = deps;
  }

  /** One pass (concurrent calls share the running pass). Never rejects: failures are logged and reported. */
  runOnce(): Promise<RefreshReport> {
    this.#running ??= this.#pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Runs a pass now and then on {@link REFRESH_PATTERN}; `stop` ends it. */
  start(): void {
    this.#cron ??= new Cron(REFRESH_PATTERN, { protect: true }, () => void this.runOnce());
    void this.runOnce();
  }

  /** Stops the schedule and waits for a running pass. */
  async stop(): Promise<void> {
    this.#cron?.stop();
    this.#cron = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #pass(): Promise<RefreshReport> {
    const d = this.#deps;
    const report: RefreshReport = { refreshed: [], revoked: [], retry: [], warned: [] };
    for (const due of d.vault.expiringWithin(REFRESH_WINDOW_MS, d.now())) {
      const account = getAccount(d.db, due.accountId);
      const refresher = account && d.refreshers.get(account.provider);
      if (!account || !refresher || account.status === "revoked" || account.status === "error") continue;
      try {
        await d.vault.refresh(account.id, (current) => refresher(account, current));
        report.refreshed.push(account.id);
        if (account.status !== "connected") changeAccountStatus(d, account.id, "connected", null);
      } catch (err) {
        const kind = classifyRefreshError(err);
        const what = err instanceof Error ? `${err.name}${(err as { error?: string }).error ? ` ${(err as { error?: string }).error}` : ""}` : "error";
        if (kind === "retry") {
          report.retry.push(account.id);
          d.log.warn({ account: account.id }, `renewing the tokens of ${account.label} failed (${what}); retrying at the next pass`);
        } else if (kind === "revoked") {
          report.revoked.push(account.id);
          changeAccountStatus(
            d,
            account.id,
            "revoked",
            `${account.label} refused to renew the access (it was withdrawn or it expired). Connect the account again from the add-on's page.`,
          );
        } else {
          changeAccountStatus(d, account.id, "error", `${account.label}: ${(err as Error).message}. Connect the account again from the add-on's page.`);
        }
      }
    }
    this.#checkExpiries(report);
    return report;
  }

  #checkExpiries(report: RefreshReport): void {
    const d = this.#deps;
    const now = d.now();
    for (const account of listAccounts(d.db)) {
      if (account.status === "revoked" || account.status === "error") continue;
      let tokens: StoredTokens | undefined;
      try {
        tokens = d.vault.get(account.id);
      } catch (err) {
        changeAccountStatus(d, account.id, "error", `${(err as Error).message}. Connect the account again from the add-on's page.`);
        continue;
      }
      const exp = accountExpiry(account, tokens);
      if (exp === null || exp - now > EXPIRY_WARNING_MS) {
        if (account.status === "expiring") changeAccountStatus(d, account.id, "connected", null);
        continue;
      }
      if (exp <= now) {
        changeAccountStatus(d, account.id, "revoked", `The access to ${account.label} ended on ${when(exp)}. Connect the account again from the add-on's page.`);
        continue;
      }
      const key = `${account.id}@${exp}`;
      if (!this.#warned.has(key)) {
        this.#warned.add(key);
        report.warned.push(account.id);
        d.events.emit("token_expiring", { accountId: account.id, expiresAt: exp });
      }
      changeAccountStatus(d, account.id, "expiring", `The access to ${account.label} ends on ${when(exp)}. Connect the account again before then to keep the sync going.`);
    }
  }
}
