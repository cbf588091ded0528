/**
 * Add-on mode answers only the Supervisor's ingress proxy (172.30.32.2), also IPv4-mapped over
 * IPv6; everyone else gets 403 plain text. Checked with inject (any address) and over a real
 * dual-stack socket, where a loopback IPv4 client really shows as ::ffff:127.0.0.1.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { isAllowedAddress, normalizeAddress } from "../../../src/web/addresses.js";
import { server } from "./web-test-kit.js";

describe("ingress address guard (add-on mode)", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("normalizes only IPv4-mapped IPv6 to IPv4", () => {
    expect(normalizeAddress("::ffff:172.30.32.2")).toBe("172.30.32.2");
    expect(normalizeAddress("::FFFF:172.30.32.2")).toBe("172.30.32.2");
    expect(normalizeAddress("fd0c::2")).toBe("fd0c::2");
    expect(normalizeAddress(undefined)).toBe("");
    expect(isAllowedAddress("::ffff:172.30.32.2", ["172.30.32.2"])).toBe(true);
    expect(isAllowedAddress("::ffff:172.30.32.20", ["172.30.32.2"])).toBe(false);
    expect(isAllowedAddress(undefined, ["172.30.32.2"])).toBe(false);
  });

  it.each(["172.30.32.2", "::ffff:172.30.32.2"])("serves the page and API to %s", async (remoteAddress) => {
    ({ app } = await server({ mode: "addon" }));
    const page = await app.inject({ url: "/accounts", remoteAddress, headers: { accept: "text/html" } });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    const api = await app.inject({ url: "/api/whoami", remoteAddress });
    expect(api.statusCode).toBe(200);
    expect(api.json().remote).toBe(remoteAddress);
  });

  it.each(["172.30.32.1", "172.30.32.3", "::ffff:172.30.32.1", "172.30.33.2", "127.0.0.1", "::1", "fd0c::2", "::ffff:127.0.0.1"])(
    "refuses %s with 403 plain text, on every path and method",
    async (remoteAddress) => {
      ({ app } = await server({ mode: "addon" }));
      for (const [method, url] of [["GET", "/accounts"], ["GET", "/api/whoami"], ["POST", "/api/accounts/connect"], ["GET", "/static/app.css"], ["GET", "/nope"]] as const) {
        const r = await app.inject({ method, url, remoteAddress, headers: { "x-forwarded-for": "172.30.32.2" } });
        expect(r.statusCode, `${method} ${url}`).toBe(403);
        expect(r.headers["content-type"]).toMatch(/^text\/plain/);
        expect(r.headers["set-cookie"]).toBeUndefined();
        expect(r.body).toMatch(/ingress/);
      }
    },
  );

  it("an injected allow-list replaces the default", async () => {
    ({ app } = await server({ mode: "addon", allowedAddresses: ["10.0.0.7"] }));
    expect((await app.inject({ url: "/api/whoami", remoteAddress: "10.0.0.7" })).statusCode).toBe(200);
    expect((await app.inject({ url: "/api/whoami", remoteAddress: "172.30.32.2" })).statusCode).toBe(403);
  });

  it("over a real dual-stack socket, an IPv4 peer arrives IPv4-mapped and is matched", async (ctx) => {
    ({ app } = await server({ mode: "addon", allowedAddresses: ["127.0.0.1"] }));
    try {
      await app.listen({ host: "::", port: 0 });
    } catch {
      ctx.skip(); // no IPv6 on this machine
    }
    const port = (app.server.address() as { port: number }).port;
    const r = await fetch(`http://127.0.0.1:${port}/api/whoami`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { remote: string }).remote).toBe("::ffff:127.0.0.1");
    await app.close();
    ({ app } = await server({ mode: "addon" }));
    await app.listen({ host: "::", port: 0 });
    const port2 = (app.server.address() as { port: number }).port;
    const refused = await fetch(`http://127.0.0.1:${port2}/api/whoami`);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/^Forbidden/);
  });
});
