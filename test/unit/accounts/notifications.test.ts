/** The notification link (ingress page with the Supervisor's slug / public_url) and the service calls' payloads. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addonPageLink, dismissAccountProblem, notificationId, notifyAccountProblem } from "../../../src/modules/accounts/notifications.js";
import type { Settings } from "../../../src/settings.js";

let url: string;
let calls: { path: string; auth: string | undefined; body: string }[] = [];
let slug: unknown = "a1b2c3d4_energy_bridge";
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += String(c)));
  req.on("end", () => {
    calls.push({ path: req.url ?? "", auth: req.headers.authorization, body });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(req.url === "/addons/self/info" ? JSON.stringify({ result: "ok", data: { slug } }) : "[]");
  });
});
beforeAll(async () => {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

const settings = (s: Partial<Settings>): Settings => ({ mode: "addon", homeAssistant: { token: "supervisor-token-xyz" } as Settings["homeAssistant"], ...s }) as Settings;

describe("account notifications", () => {
  it("as an add-on links to /hassio/ingress/<slug> with the Supervisor's full slug", async () => {
    calls = [];
    expect(await addonPageLink(settings({}), { supervisorUrl: url })).toBe("/hassio/ingress/a1b2c3d4_energy_bridge");
    expect(calls).toEqual([{ path: "/addons/self/info", auth: "Bearer supervisor-token-xyz", body: "" }]);
  });

  it("falls back to the manifest slug when the Supervisor answers nothing usable", async () => {
    slug = "../../evil";
    expect(await addonPageLink(settings({}), { supervisorUrl: url })).toBe("/hassio/ingress/energy_bridge");
    expect(await addonPageLink(settings({}), { supervisorUrl: "http://127.0.0.1:9" })).toBe("/hassio/ingress/energy_bridge");
  });

  it("standalone: public_url + accounts, or no link", async () => {
    expect(await addonPageLink(settings({ mode: "standalone", publicUrl: "http://192.168.1.10:8099" }))).toBe("http://192.168.1.10:8099/accounts");
    expect(await addonPageLink(settings({ mode: "standalone", publicUrl: "https://eb.example/sub/" }))).toBe("https://eb.example/sub/accounts");
    expect(await addonPageLink(settings({ mode: "standalone" }))).toBeNull();
  });

  it("create and dismiss use one notification id per account", async () => {
    calls = [];
    const rest = { apiUrl: `${url}/api`, token: "ha-token" };
    await notifyAccountProblem(rest, { id: "cozy_alice.mycozy.cloud", label: "Ecolyo alice", message: "Consent revoked.", link: "/hassio/ingress/x" });
    await dismissAccountProblem(rest, "cozy_alice.mycozy.cloud");
    expect(notificationId("cozy_alice.mycozy.cloud")).toBe("energy_bridge_account_cozy_alice_mycozy_cloud");
    expect(calls.map((c) => [c.path, JSON.parse(c.body)])).toEqual([
      [
        "/api/services/persistent_notification/create",
        {
          notification_id: "energy_bridge_account_cozy_alice_mycozy_cloud",
          title: "Energy Bridge: Ecolyo alice needs attention",
          message: "Consent revoked.\n\n[Open Energy Bridge's accounts page](/hassio/ingress/x) to connect it again.",
        },
      ],
      ["/api/services/persistent_notification/dismiss", { notification_id: "energy_bridge_account_cozy_alice_mycozy_cloud" }],
    ]);
  });

  it("an account in error (bad data) is told the add-on retries, not to reconnect", async () => {
    calls = [];
    const rest = { apiUrl: `${url}/api`, token: "ha-token" };
    await notifyAccountProblem(rest, { id: "tado_1", label: "Tado home", message: "Tado sent malformed JSON.", link: null, status: "error" });
    const body = JSON.parse(calls[0]!.body) as { message: string };
    expect(body.message).toBe("Tado sent malformed JSON.\n\nOpen Energy Bridge's page for details; the add-on keeps retrying by itself.");
    expect(body.message).not.toMatch(/connect it again/);
  });
});
