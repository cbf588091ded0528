/**
 * The tado module (issue #8 item 3): one poller (tado-home.ts) per connected Tado account
 * (`tado_<homeId>`, created by the device code flow, auth/flows/tado.ts), started at start and on
 * `account_connected`, stopped on `account_disconnected` or when the account is revoked (zones
 * unavailable, never removed);
 * states re-published on `ha_ready`. Owns its tables (tado-store.ts). Options: `tado_budget_per_day`
 * (default 100, hard cap 20 000), `tado_reserve` (default 10, at most half the budget),
 * `tado_api_url`, `retention_days` for the zone samples (pruned once a day).
 */
import { getAccount, listAccounts } from "../../store/accounts.js";
import { changeAccountStatus } from "../../auth/flows/account-store.js";
import { refreshTadoTokens, tadoEndpoints, tadoOAuthConfig } from "../../auth/flows/tado.js";
import type { StoredTokens, TokenSet } from "../../auth/token-vault.js";
import type { Account } from "../../domain/types.js";
import type { Module, ModuleContext, ModuleHealth } from "../module.js";
import { budgetWindow, effectiveTadoBudget, TADO_DEFAULT_RESERVE } from "./tado-budget.js";
import { TadoHome, type TadoHomeDeps } from "./tado-home.js";
import { countRequests, migrateTado, pruneTado } from "./tado-store.js";

/** Test hooks: HTTP, the token refresher, timers. */
export interface TadoModuleOptions {
  fetch?: typeof fetch;
  refresher?: (current: StoredTokens) => Promise<TokenSet>;
  setTimer?: TadoHomeDeps["setTimer"];
  clearTimer?: TadoHomeDeps["clearTimer"];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** See the file comment. */
export class TadoModule implements Module {
  readonly name = "tado";
  private ctx: ModuleContext | undefined;
  private readonly homes = new Map<string, TadoHome>();
  private offs: (() => void)[] = [];
  private pruneTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly opts: TadoModuleOptions = {}) {}

  async start(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    migrateTado(ctx.db);
    const limit = effectiveTadoBudget(ctx.settings.tado?.budgetPerDay);
    const reserve = Math.min(ctx.settings.tado?.reserve ?? TADO_DEFAULT_RESERVE, Math.floor(limit / 2));
    if ((ctx.settings.tado?.reserve ?? 0) > reserve) ctx.log.warn(`tado_reserve lowered to ${reserve}: at most half of the daily budget (${limit})`);
    this.offs = [
      ctx.events.on("account_connected", (e) => {
        if (e.provider !== "tado") return;
        const a = getAccount(ctx.db, e.accountId);
        // The flow's own calls (/me, /homes/{id}) came out of today's budget.
        const calls = Number(a?.config.connectCalls ?? 0);
        if (a && calls > 0) countRequests(ctx.db, a.id, budgetWindow(ctx.now()).day, calls);
        if (a) void this.startHome(a, limit, reserve);
      }),
      ctx.events.on("account_disconnected", (e) => {
        if (e.provider === "tado") void this.stopHome(e.accountId);
      }),
      // Revoked elsewhere (the refresh job): stop spending calls on refused tokens until reconnected.
      ctx.events.on("account_status", (e) => {
        if (e.provider === "tado" && e.status === "revoked") void this.stopHome(e.accountId);
      }),
      ctx.events.on("ha_ready", () => {
        for (const h of this.homes.values()) void h.republish().catch((err: Error) => ctx.log.warn(`tado: re-publishing failed: ${err.message}`));
      }),
    ];
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), DAY_MS);
    this.pruneTimer.unref();
    for (const a of listAccounts(ctx.db, "tado")) await this.startHome(a, limit, reserve);
    if (this.homes.size === 0) ctx.log.info("no Tado account connected (connect one from the add-on's page)");
  }

  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await Promise.all([...this.homes.keys()].map((id) => this.stopHome(id)));
  }

  health(): ModuleHealth {
    const problems = [...this.homes.values()].map((h) => h.health() && `${h.accountId}: ${h.health()}`).filter(Boolean);
    return problems.length ? { status: "degraded", detail: problems.join("; ") } : { status: "ok", detail: null };
  }

  /** The running pollers (tests, the CLI). */
  pollers(): readonly TadoHome[] {
    return [...this.homes.values()];
  }

  private async startHome(account: Account, limit: number, reserve: number): Promise<void> {
    const ctx = this.ctx!;
    await this.stopHome(account.id);
    if (!Number.isSafeInteger(Number(account.config.homeId))) {
      ctx.log.warn(`tado account ${account.id} has no home id; connect it again`);
      return;
    }
    const endpoints = tadoEndpoints(ctx.settings);
    const oauth = tadoOAuthConfig(endpoints, this.opts.fetch);
    const home = new TadoHome(account, {
      db: ctx.db,
      vault: ctx.vault,
      entities: ctx.entities,
      log: ctx.log,
      now: ctx.now,
      apiUrl: endpoints.apiUrl,
      ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
      refresher: this.opts.refresher ?? ((current) => refreshTadoTokens(oauth, current, ctx.now())),
      limit,
      reserve,
      setStatus: (status, detail) => void changeAccountStatus(ctx, account.id, status, detail),
      ...(this.opts.setTimer ? { setTimer: this.opts.setTimer } : {}),
      ...(this.opts.clearTimer ? { clearTimer: this.opts.clearTimer } : {}),
    });
    this.homes.set(account.id, home);
    await home.start();
  }

  private async stopHome(accountId: string): Promise<void> {
    const h = this.homes.get(accountId);
    if (!h) return;
    this.homes.delete(accountId);
    await h.stop();
  }

  private prune(): void {
    const ctx = this.ctx!;
    const now = ctx.now();
    const before = now - ctx.settings.retentionDays * DAY_MS;
    const n = pruneTado(ctx.db, before, budgetWindow(now - 7 * DAY_MS).day);
    if (n > 0) ctx.log.info(`tado: ${n} zone samples older than ${ctx.settings.retentionDays} days removed`);
  }
}
