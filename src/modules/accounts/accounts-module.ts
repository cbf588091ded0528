/**
 * The accounts module ("accounts"): serves the accounts JSON API (api.ts) through the route
 * registry, runs the flows of src/auth/flows/ (created with one shared `state` store), the token
 * refresh job (auth/refresh-job.ts: every 15 min and at start) and the account health in Home
 * Assistant (health.ts: a device per account, persistent notifications). It starts after the
 * energy module (which listens to `account_connected`) and before the web module.
 */
import { createFlows, type FlowDeps } from "../../auth/flows/index.js";
import { createOAuthStateStore, type OAuthStateStore } from "../../auth/oauth-state.js";
import { RefreshJob, accountExpiry, type Refresher } from "../../auth/refresh-job.js";
import type { AccountFlow } from "../../auth/flow.js";
import type { StoredTokens } from "../../auth/token-vault.js";
import { changeAccountStatus } from "../../auth/flows/account-store.js";
import { deleteAccount, getAccount, listAccounts } from "../../store/accounts.js";
import type { Module, ModuleContext, ModuleHealth } from "../module.js";
import { accountsApi } from "./api.js";
import { AccountHealth } from "./health.js";
import { addonPageLink } from "./notifications.js";
import { PROVIDER_UI } from "./provider-catalog.js";

/** Test hooks: an injected fetch for the flows and notifications, a state store, extra flows. */
export interface AccountsModuleOptions {
  fetch?: typeof fetch;
  states?: OAuthStateStore;
  /** Replaces createFlows (tests). */
  flows?: (deps: FlowDeps) => AccountFlow[];
  /** false: no refresh schedule (tests call `refreshJob.runOnce()`). */
  schedule?: boolean;
}

/** See the file comment. */
export class AccountsModule implements Module {
  readonly name = "accounts";
  flows = new Map<string, AccountFlow>();
  refreshJob: RefreshJob | undefined;
  accountHealth: AccountHealth | undefined;
  private ctx: ModuleContext | undefined;
  private offs: (() => void)[] = [];
  private pending = new Set<Promise<unknown>>();
  private chains = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: AccountsModuleOptions = {}) {}

  async start(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    const log = ctx.log.child({ module: this.name });
    const deps: FlowDeps = {
      db: ctx.db,
      vault: ctx.vault,
      events: ctx.events,
      settings: ctx.settings,
      log,
      now: ctx.now,
      states: this.opts.states ?? createOAuthStateStore(ctx.now),
      ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
    };
    const flows = (this.opts.flows ?? createFlows)(deps);
    this.flows = new Map(flows.map((f) => [f.provider, f]));
    const refreshers = new Map<string, Refresher>();
    for (const f of flows) if (f.refresher) refreshers.set(f.provider, f.refresher.bind(f));
    this.refreshJob = new RefreshJob({ db: ctx.db, vault: ctx.vault, events: ctx.events, log, now: ctx.now, refreshers });

    let link: Promise<string | null> | undefined;
    this.accountHealth = new AccountHealth({
      entities: ctx.entities,
      rest: ctx.rest,
      vault: ctx.vault,
      log,
      link: () => (link ??= addonPageLink(ctx.settings, { log, ...(this.opts.fetch ? { fetchImpl: this.opts.fetch } : {}) })),
      ...(this.opts.fetch ? { fetchImpl: this.opts.fetch } : {}),
      providerLabel: (p) => PROVIDER_UI[p as keyof typeof PROVIDER_UI]?.label ?? p,
    });

    ctx.web.add(
      this.name,
      accountsApi({
        flows: this.flows,
        list: () => listAccounts(ctx.db).map((account) => ({ account, expiresAt: accountExpiry(account, this.tokens(account.id)) })),
        disconnect: (id) => this.disconnect(id),
        log,
        now: ctx.now,
      }),
      { path: "accounts", label: { en: "Accounts", fr: "Comptes" } },
    );

    // One publication at a time per account, reading the account when it runs (never a stale status).
    const publish = (id: string, reconnected = false) =>
      this.serial(id, async () => {
        const account = getAccount(ctx.db, id);
        if (account) await this.accountHealth!.publish(account, { reconnected });
      });
    this.offs = [
      ctx.events.on("account_connected", (e) => publish(e.accountId, true)),
      ctx.events.on("account_status", (e) => publish(e.accountId)),
      ctx.events.on("account_disconnected", (e) => this.serial(e.accountId, () => this.accountHealth!.disconnected(e.accountId))),
      ctx.events.on("meter_synced", (e) => this.meterSynced(e.meterId, e.status)),
      ctx.events.on("ha_ready", () => {
        for (const a of listAccounts(ctx.db)) publish(a.id);
      }),
    ];
    for (const a of listAccounts(ctx.db)) publish(a.id);
    if (this.opts.schedule === false) return;
    this.refreshJob.start();
  }

  /**
   * Disconnects `accountId`: the flow revokes / unregisters at the provider where it can (its
   * failure is logged, never blocks), then the tokens and the account row are deleted and
   * `account_disconnected` is emitted. Resolves false for an unknown account.
   */
  async disconnect(accountId: string): Promise<boolean> {
    const ctx = this.ctx!;
    const account = getAccount(ctx.db, accountId);
    if (!account) return false;
    const flow = this.flows.get(account.provider);
    try {
      await flow?.disconnect(account);
    } catch (err) {
      ctx.log.warn(`account ${accountId}: the provider could not be told about the disconnection (${(err as Error).name}); forgetting it anyway`);
    }
    ctx.db.transaction(() => {
      ctx.vault.remove(accountId);
      deleteAccount(ctx.db, accountId);
    })();
    ctx.log.info({ account: accountId }, `account ${account.label} disconnected`);
    ctx.events.emit("account_disconnected", { accountId, provider: account.provider });
    return true;
  }

  /**
   * A Linky meter of an account finished a cycle: `auth_error` (HTTP 401/403: consent withdrawn,
   * token refused) marks its account `revoked`; a later good cycle marks it `connected` again.
   * Meter id = PRM (production series: `<prm>_production`).
   */
  private meterSynced(meterId: string, status: string): void {
    const ctx = this.ctx!;
    const prm = meterId.replace(/_production$/, "");
    for (const a of listAccounts(ctx.db)) {
      const prms = Array.isArray(a.config.prms) ? a.config.prms : [];
      if (!prms.includes(prm)) continue;
      if (status === "auth_error" && a.status !== "revoked") {
        const detail =
          a.provider === "enedis_data_connect"
            ? `Enedis refused access to meter ${prm}: the consent was withdrawn or it expired. Give it again from the add-on's page.`
            : `The gateway refused the token for meter ${prm} (revoked or expired). Paste a new token on the add-on's page.`;
        changeAccountStatus({ ...ctx, log: ctx.log }, a.id, "revoked", detail);
      } else if ((status === "ok" || status === "partial") && a.status === "revoked") {
        changeAccountStatus({ ...ctx, log: ctx.log }, a.id, "connected", null);
      }
    }
  }

  /** Waits for the health publications in flight (tests). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    await this.refreshJob?.stop();
    await this.settled();
  }

  health(): ModuleHealth {
    if (!this.ctx) return { status: "ok", detail: null };
    const bad = listAccounts(this.ctx.db).filter((a) => a.status === "revoked" || a.status === "error");
    return bad.length === 0 ? { status: "ok", detail: null } : { status: "degraded", detail: bad.map((a) => `${a.id}: ${a.detail ?? a.status}`).join("; ") };
  }

  private tokens(id: string): StoredTokens | undefined {
    try {
      return this.ctx!.vault.get(id);
    } catch {
      return undefined;
    }
  }

  /** Runs `task` after the previous task of `accountId` (tracked for `settled`). */
  private serial(accountId: string, task: () => Promise<unknown>): void {
    const next = (this.chains.get(accountId) ?? Promise.resolve()).then(task, task);
    const tail = next.catch(() => undefined);
    this.chains.set(accountId, tail);
    void tail.then(() => {
      if (this.chains.get(accountId) === tail) this.chains.delete(accountId);
    });
    this.track(next);
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch(() => undefined).finally(() => this.pending.delete(t));
    this.pending.add(t);
  }
}
