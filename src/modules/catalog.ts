/**
 * The modules the service runs after the energy module, in start order, built from the settings.
 * The web module must stay last: the others add their pages and API to the route registry
 * (modules/web-routes.ts) while they start. Add a feature here, nowhere else in the root.
 */
import type { Settings } from "../settings.js";
import { DashboardModule } from "./dashboard/dashboard-module.js";
import type { Module } from "./module.js";
import { WebModule } from "../web/web-module.js";

/** See the file comment. */
export function defaultModules(settings: Settings): Module[] {
  void settings;
  const modules: Module[] = [];
  modules.push(new DashboardModule());
  // Last: it mounts the routes every module above added to ctx.web while starting.
  modules.push(new WebModule());
  return modules;
}
