/**
 * Pasted gateway tokens through the accounts API: Conso API tokens checked offline (JWT `sub`
 * lists the PRM, not expired), MyElectricalData secrets with one request to the provider
 * simulator's MED v2 gateway; bad input in plain words and nothing stored; the token only in the
 * vault (never in the account row, the API answer or a log line).
 */
import { SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { listAccounts } from "../../../src/store/accounts.js";
import { loadHalfHourSeries, SCEAUX_2007H1_30MIN } from "../../helpers/dataset.js";
import { startProviderSimulator, simulatorToken, type ProviderSimulator } from "../../helpers/provider-simulator.js";
import { accountsKit, assertNoSecretInLogs, type AccountsKit } from "./kit.js";

const PRM = "12345678901234";
let sim: ProviderSimulator;
let kit: AccountsKit;
const logs: string[] = [];
const secrets: string[] = [];

beforeAll(async () => {
  sim = await startProviderSimulator({ series: loadHalfHourSeries(SCEAUX_2007H1_30MIN), prm: PRM, token: "med-client-secret-0123456789" });
  secrets.push(sim.token);
});
afterAll(async () => {
  await sim.close();
  assertNoSecretInLogs(logs, secrets);
});
beforeEach(async () => {
  kit = await accountsKit();
});
afterEach(async () => {
  logs.push(...kit.logs);
  await kit.close();
});

const connect = (provider: string, input: Record<string, string>) =>
  kit.api("POST", "/api/accounts/connect", { session: "s", body: { provider, input, callbackUrl: `http://127.0.0.1:8099/callback/${provider}` } });

describe("pasted gateway tokens", () => {
  it("Conso API: a token whose sub lists the PRM connects without any request; the token is only in the vault", async () => {
    const token = simulatorToken(PRM);
    secrets.push(token);
    const res = await connect("conso_api", { prm: PRM, token });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ kind: "done", account: { id: `conso_api_${PRM}`, provider: "conso_api", status: "connected", config: { prms: [PRM] } } });
    expect(res.body).not.toContain(token);
    expect(JSON.stringify(listAccounts(kit.ctx.db))).not.toContain(token);
    expect(kit.ctx.vault.get(`conso_api_${PRM}`)!.accessToken).toBe(token);
    expect(kit.events.map((e) => e.name)).toEqual(["account_connected"]);
    const list = (await kit.api("GET", "/api/accounts", { session: "s" })).json<{ providers: { provider: string; kind: string; inputs: { name: string; type: string }[] }[] }>();
    expect(list.providers.find((p) => p.provider === "conso_api")).toMatchObject({ kind: "token", inputs: [{ name: "prm", type: "text" }, { name: "token", type: "password" }, { name: "baseUrl", type: "url" }] });
  });

  it("Conso API: an expired token, another meter's token, or not a JWT → plain error, nothing stored", async () => {
    const key = new TextEncoder().encode("x".repeat(32));
    const expired = await new SignJWT({ sub: [PRM] } as never).setProtectedHeader({ alg: "HS256" }).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(key);
    secrets.push(expired);
    for (const [token, code] of [
      [expired, "token_expired"],
      [simulatorToken("99999999999999"), "wrong_prm"],
      ["not-a-jwt-at-all-123", "invalid_token"],
    ] as const) {
      const res = await connect("conso_api", { prm: PRM, token });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error: code, message: expect.any(String) });
    }
    expect(listAccounts(kit.ctx.db)).toEqual([]);
    expect(kit.ctx.vault.get(`conso_api_${PRM}`)).toBeUndefined();
  });

  it.each([
    [{ prm: "1234", token: "abcdefghijkl" }, /14-digit/],
    [{ prm: "1234567890123A", token: "abcdefghijkl" }, /14-digit/],
    [{ prm: PRM, token: "short" }, /whole token/],
    [{ prm: PRM, token: "abcdefghijkl", baseUrl: "ftp://x" }, /http/],
    [{ token: "abcdefghijkl" }, /PRM/],
  ])("bad input %j → invalid_input in plain words", async (input, message) => {
    const res = await connect("myelectricaldata", input as Record<string, string>);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: "invalid_input", message: expect.stringMatching(message) });
    expect(listAccounts(kit.ctx.db)).toEqual([]);
  });

  it("MyElectricalData: one request validates the secret for the PRM", async () => {
    const before = sim.requestCount({ route: "med" });
    const bad = await connect("myelectricaldata", { prm: PRM, token: "wrong-secret-000000", baseUrl: `${sim.baseUrl}/api` });
    expect(bad.json()).toMatchObject({ error: "invalid_token" });
    expect(listAccounts(kit.ctx.db)).toEqual([]);
    const ok = await connect("myelectricaldata", { prm: PRM, token: sim.token, baseUrl: `${sim.baseUrl}/api` });
    expect(ok.json()).toMatchObject({ kind: "done", account: { id: `myelectricaldata_${PRM}`, config: { prms: [PRM], baseUrl: `${sim.baseUrl}/api` } } });
    expect(sim.requestCount({ route: "med" }) - before).toBe(2);
    expect(kit.ctx.vault.get(`myelectricaldata_${PRM}`)!.accessToken).toBe(sim.token);
  });

  it("MyElectricalData unreachable → provider_unreachable, nothing stored", async () => {
    const res = await connect("myelectricaldata", { prm: PRM, token: sim.token, baseUrl: "http://127.0.0.1:9/api" });
    expect(res.json()).toMatchObject({ error: "provider_unreachable" });
    expect(listAccounts(kit.ctx.db)).toEqual([]);
  });

  it("disconnect forgets the token and the account; unknown ids are 404", async () => {
    await connect("conso_api", { prm: PRM, token: simulatorToken(PRM) });
    expect((await kit.api("POST", `/api/accounts/conso_api_${PRM}/disconnect`, { session: "s" })).json()).toEqual({ ok: true });
    expect(kit.ctx.vault.get(`conso_api_${PRM}`)).toBeUndefined();
    expect(listAccounts(kit.ctx.db)).toEqual([]);
    expect(kit.events.map((e) => e.name)).toEqual(["account_connected", "account_disconnected"]);
    expect((await kit.api("POST", `/api/accounts/conso_api_${PRM}/disconnect`, { session: "s" })).statusCode).toBe(404);
  });
});
