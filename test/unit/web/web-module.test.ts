/**
 * The web module as the root runs it: mounts the registry's plugins (registry closed after), the
 * navigation from the registry's pages, listens, and stops within 2 s even with a request hanging
 * on an open connection.
 */
import { request as httpRequest } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { ModuleContext } from "../../../src/modules/module.js";
import { createWebRoutes } from "../../../src/modules/web-routes.js";
import { WebModule } from "../../../src/web/web-module.js";
import { capturedLog, whoami } from "./web-test-kit.js";

function context(mode: "addon" | "standalone", web?: { secret?: string }) {
  const { log, lines } = capturedLog();
  const routes = createWebRoutes();
  const ctx = { settings: { mode, ...(web ? { web } : {}) }, web: routes, log, now: Date.now } as unknown as ModuleContext;
  return { ctx, routes, lines };
}

describe("WebModule", () => {
  let mod: WebModule | undefined;
  afterEach(async () => {
    await mod?.stop();
    mod = undefined;
  });

  it("mounts every registered plugin, lists their pages, and closes the registry", async () => {
    const { ctx, routes } = context("addon");
    routes.add("test", whoami, { path: "dashboard", label: { en: "Dashboard", fr: "Tableau de bord" } });
    routes.add("accounts", async () => {}, { path: "accounts", label: { en: "Accounts", fr: "Comptes" } });
    mod = new WebModule({ listen: { host: "127.0.0.1", port: 0 }, allowedAddresses: ["127.0.0.1"] });
    await mod.start(ctx);
    expect(() => routes.add("late", async () => {})).toThrow(/after the web server started/);
    const api = await fetch(new URL("api/whoami", mod.url));
    expect(api.status).toBe(200);
    const html = await (await fetch(new URL("accounts", mod.url))).text();
    const nav = [...(/<nav[^>]*>(.*?)<\/nav>/s.exec(html)?.[1] ?? "").matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
    expect(nav).toEqual(["accounts", "dashboard"]); // accounts once, first
  });

  it("a plugin that throws is reported and the others still serve", async () => {
    const { ctx, routes, lines } = context("addon");
    routes.add("broken", async () => {
      throw new Error("cannot build routes");
    });
    routes.add("test", whoami);
    mod = new WebModule({ listen: { host: "127.0.0.1", port: 0 }, allowedAddresses: ["127.0.0.1"] });
    await mod.start(ctx);
    expect((await fetch(new URL("api/whoami", mod.url))).status).toBe(200);
    expect(lines.join("\n")).toMatch(/the broken module's routes failed to load: cannot build routes/);
  });

  it("standalone without web_secret fails to start with a message naming the option", async () => {
    const { ctx } = context("standalone");
    mod = new WebModule({ listen: { host: "127.0.0.1", port: 0 } });
    await expect(mod.start(ctx)).rejects.toThrow(/web_secret/);
  });

  it("stops within 2 s with a request hanging on a keep-alive connection", async () => {
    const { ctx, routes } = context("addon");
    let entered = false;
    routes.add("hang", async (app) => {
      app.get("/hang", async () => {
        entered = true;
        return new Promise(() => {});
      });
    });
    mod = new WebModule({ listen: { host: "127.0.0.1", port: 0 }, allowedAddresses: ["127.0.0.1"] });
    await mod.start(ctx);
    const url = new URL("accounts", mod.url);
    // An idle keep-alive connection, and a request hanging in a plugin.
    const hanging = new Promise<void>((resolve) => {
      const req = httpRequest(url, { headers: { connection: "keep-alive" } }, (res) => {
        res.resume();
        resolve();
      });
      req.on("error", () => resolve());
      req.end();
    });
    await hanging;
    const stuck = httpRequest(new URL("hang", mod.url));
    stuck.on("error", () => {});
    stuck.end();
    while (!entered) await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await mod.stop();
    mod = undefined;
    expect(Date.now() - t0).toBeLessThan(2100);
    await expect(fetch(url)).rejects.toThrow();
  });
});
