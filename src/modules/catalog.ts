/**
 * The modules the service runs after the energy module, in start order, built from the settings.
 * The web module must stay last: the others add their pages and API to the route registry
 * (modules/web-routes.ts) while they start. Add a feature here, nowhere else in the root.
 */
import type { Settings } from "../settings.js";
import { DashboardModule } from "./dashboard/dashboard-module.js";
import type { Module } from "./module.js";
import { TadoModule } from "./tado/tado-module.js";
import { EcolyoModule } from "./ecolyo/ecolyo-module.js";
import { AccountsModule } from "./accounts/accounts-module.js";
import { WebModule } from "../web/web-module.js";

/**
 * See the file comment. Modules that only some users turn on (the entity mirror) are imported
 * only when their options enable them: their code and libraries (jose, the WebSocket server)
 * would otherwise cost every start ~150 ms and resident memory (bench/README.md).
 */
export async function defaultModules(settings: Settings): Promise<Module[]> {
  const modules: Module[] = [];
  // Accounts: its flows' API, refresh job and health (before web, which mounts its routes).
  modules.push(new AccountsModule());
  modules.push(new DashboardModule());
  // Ecolyo electricity, gas and water (Cozy accounts).
  modules.push(new EcolyoModule());
  // Tado zones (accounts from the device code flow).
  modules.push(new TadoModule());
  // Entity mirror, each side only when its options enable it.
  if (settings.sync?.server) modules.push(new (await import("./sync-server/module.js")).SyncServerModule());
  if ((settings.sync?.clientServers.length ?? 0) > 0) modules.push(new (await import("./sync-client/module.js")).SyncClientModule());
  // Last: it mounts the routes every module above added to ctx.web while starting.
  modules.push(new WebModule());
  return modules;
}
