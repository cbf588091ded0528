/**
 * The dashboard module: adds the dashboard page and its JSON API (api.ts, page.ts) to the route
 * registry, scans the import folder (import/folder.ts) every minute, and sends imported readings to
 * Home Assistant through the statistics writer (jobs/write-statistics.ts, the same one the sync
 * cycle uses; it writes only dirty hours and diffs against HA). A manual sync of a range runs
 * through manual-sync.ts (the configured meter's provider, the shared request budget, the same
 * writer), or through an injected `sync` (tests).
 */
import type { FastifyInstance } from "fastify";
import { isGridMeterProvider, statisticSource } from "../../domain/meter-providers.js";
import type { Meter } from "../../domain/types.js";
import { statisticId, type StatisticMeta } from "../../homeassistant/statistics.js";
import { importFolder, scanImportFolder } from "../../import/folder.js";
import { importPortalFile, type ImportOutcome } from "../../import/import-file.js";
import { writeStatistics } from "../../jobs/write-statistics.js";
import { listMeters } from "../../store/meters.js";
import type { Module, ModuleContext, ModuleHealth } from "../module.js";
import { dashboardApi, type ManualSync } from "./api.js";
import { createManualSync } from "./manual-sync.js";
import { dashboardPage } from "./page.js";

/** Options (tests inject them). */
export interface DashboardOptions {
  sync?: ManualSync;
  /** Import folder; default per run mode (import/folder.ts). */
  importDir?: string;
  /** Folder scan period (default 60 s; 0 = no timer). */
  scanIntervalMs?: number;
}

/**
 * The HA statistic a Linky meter series writes (the energy module's rule:
 * `energy_bridge:<linky|ores>_<prm>_<flow>`, kWh), or null for other meters (their module writes them).
 */
export function statisticOf(meter: Meter): StatisticMeta | null {
  if (meter.kind !== "electricity" || !isGridMeterProvider(meter.provider)) return null;
  const flow = meter.flow ?? "consumption";
  const prm = meter.usagePoint ?? meter.id.replace(/_production$/, "");
  return { statisticId: statisticId(statisticSource(meter.provider), prm, flow), name: `${meter.name} ${flow}`, unit: "kWh", unitClass: "energy" };
}

/** See the file comment. */
export class DashboardModule implements Module {
  readonly name = "dashboard";
  private ctx: ModuleContext | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<unknown> | undefined;
  private lastError: string | null = null;
  private dir = "";

  constructor(private readonly opts: DashboardOptions = {}) {}

  async start(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    this.dir = this.opts.importDir ?? importFolder(ctx.settings.mode, ctx.settings.dataDir);
    const sync =
      this.opts.sync ??
      createManualSync({
        db: ctx.db,
        settings: ctx.settings,
        now: ctx.now,
        log: ctx.log,
        ...(ctx.providerRuntime ? { providerRuntime: ctx.providerRuntime } : {}),
        write: (meter) => this.writeToHa(meter),
      });
    const api = dashboardApi({
      db: ctx.db,
      now: ctx.now,
      sync,
      importer: (meter, name, bytes) => this.importOne(meter, name, bytes),
      nextSync: () => {
        const runs = ctx.scheduler?.nextRuns() ?? [];
        return runs.length ? Math.min(...runs) : null;
      },
      ...(ctx.settings.requestBudgetPerDay ? { budgetOption: ctx.settings.requestBudgetPerDay } : {}),
    });
    const page = dashboardPage();
    ctx.web.add(
      "dashboard",
      async (app: FastifyInstance) => {
        await app.register(api);
        await app.register(page);
      },
      { path: "dashboard", label: { en: "Dashboard", fr: "Tableau de bord" } },
    );
    const every = this.opts.scanIntervalMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.scan(), every);
      this.timer.unref();
      void this.scan();
    }
  }

  /** One scan of the import folder (also what the timer runs); never throws. */
  scan(): Promise<unknown> {
    const ctx = this.ctx!;
    this.scanning ??= (async () => {
      try {
        for (const e of await scanImportFolder(this.dir, ctx.db, ctx.now())) {
          if (e.ok) await this.imported(e.outcome);
          else ctx.log.warn(`import of ${e.file} failed, nothing stored: ${e.error}`);
        }
        this.lastError = null;
      } catch (err) {
        this.lastError = `import folder ${this.dir}: ${(err as Error).message}`;
        ctx.log.warn(this.lastError);
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  private async importOne(meter: Meter, name: string, bytes: Buffer): Promise<ImportOutcome> {
    const ctx = this.ctx!;
    const outcome = await importPortalFile(ctx.db, meter, name, bytes, ctx.now());
    await this.imported(outcome);
    return outcome;
  }

  /** Announces an import and writes its dirty hours to Home Assistant (a failure is logged: the hours stay dirty). */
  private async imported(o: ImportOutcome): Promise<void> {
    const ctx = this.ctx!;
    ctx.log.info(`imported ${o.file} into ${o.meter_id}: ${o.inserted} new, ${o.updated} corrected, ${o.unchanged} unchanged readings`);
    ctx.events.emit("readings_imported", { meterId: o.meter_id, file: o.file, inserted: o.inserted, updated: o.updated, at: ctx.now() });
    if (o.inserted + o.updated === 0) return;
    const meter = listMeters(ctx.db).find((m) => m.id === o.meter_id);
    if (!meter) return;
    await this.writeToHa(meter).catch((err: Error) => {
      ctx.log.warn(`imported readings of ${meter.id} stay queued for Home Assistant: ${err.message}`);
    });
  }

  /** Sends a meter's dirty hours through the statistics writer; returns the rows sent (0 for non-Linky meters). */
  private async writeToHa(meter: Meter): Promise<number> {
    const ctx = this.ctx!;
    const meta = statisticOf(meter);
    if (!meta) return 0;
    const w = await writeStatistics(ctx.db, ctx.ha.connection, ctx.ha.haVersion, meter, meta, { log: ctx.log });
    ctx.log.info(`${meter.id}: ${w.rowsSent} rows and ${w.adjustments} sum adjustments sent to Home Assistant`);
    return w.rowsSent;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.scanning;
  }

  health(): ModuleHealth {
    return this.lastError ? { status: "degraded", detail: this.lastError } : { status: "ok", detail: null };
  }
}
