/**
 * The Enedis Data Connect consent v2 flow through the accounts JSON API, against the consent
 * simulator (test/helpers/simulator/enedis-consent.ts): authorize → autorisation_id → subscribed
 * services → the account; the state checks; Enedis' errors in plain words; nothing logged that
 * is secret.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getAccount, listAccounts } from "../../../src/store/accounts.js";
import { startEnedisConsentSimulator, type EnedisConsentSimulator } from "../../helpers/simulator/enedis-consent.js";
import { accountsKit, assertNoSecretInLogs, type AccountsKit } from "./kit.js";

const CLIENT = { clientId: "eb-dataconnect-app", clientSecret: "dataconnect-secret-4242" };
const PRM = "09876543210987";
const CALLBACK = "https://ha.example/api/hassio_ingress/tok123/callback/enedis_data_connect";

let sim: EnedisConsentSimulator;
let kit: AccountsKit;
const allLogs: string[] = [];

beforeAll(async () => {
  sim = await startEnedisConsentSimulator({ ...CLIENT, prms: [PRM], selfConsumption: true });
});
afterAll(async () => {
  await sim.close();
  // No secret, consent reference or state in any log line of the whole file.
  assertNoSecretInLogs(allLogs, [CLIENT.clientSecret, ...sim.consents.map((c) => c.autorisationId), ...sim.consents.map((c) => c.state)]);
});
beforeEach(async () => {
  sim.nextAnswer = "accept";
  sim.requests.length = 0;
  kit = await accountsKit({ settings: { enedis: CLIENT, enedisConsent: { authorizeUrl: sim.authorizeUrl, apiUrl: sim.baseUrl } } });
});
afterEach(async () => {
  allLogs.push(...kit.logs);
  await kit.close();
});

/** The browser: POST connect, follow Enedis' page, return the callback path + query for our API. */
async function consent(session: string): Promise<{ start: { kind: string; url: string }; callback: string }> {
  const res = await kit.api("POST", "/api/accounts/connect", { session, body: { provider: "enedis_data_connect", input: {}, callbackUrl: CALLBACK } });
  expect(res.statusCode, res.body).toBe(200);
  const start = res.json<{ kind: string; url: string }>();
  const page = await fetch(start.url, { redirect: "manual" });
  expect(page.status).toBe(302);
  const back = new URL(page.headers.get("location")!);
  expect(back.origin + back.pathname).toBe(CALLBACK);
  return { start, callback: `/callback/enedis_data_connect${back.search}` };
}

describe("Enedis consent v2 through the accounts API", () => {
  it("authorize → autorisation_id + state → subscribed services → one account per PRM", async () => {
    const { start, callback } = await consent("browser-1");
    expect(start.kind).toBe("redirect");
    const url = new URL(start.url);
    expect(url.pathname).toBe("/dataconnect/v2/oauth2/authorize");
    expect(Object.fromEntries(url.searchParams)).toMatchObject({ client_id: CLIENT.clientId, response_type: "code", duration: "P3Y", redirect_uri: CALLBACK });
    // The callback carries exactly autorisation_id and state (v2).
    expect([...new URLSearchParams(callback.split("?")[1]).keys()].sort()).toEqual(["autorisation_id", "state"]);

    const res = await kit.api("GET", callback, { session: "browser-1" });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`../accounts?connected=enedis_data_connect_${PRM}`);
    const account = getAccount(kit.ctx.db, `enedis_data_connect_${PRM}`)!;
    const given = sim.consents[0]!;
    expect(account.status).toBe("connected");
    // The self-consumption PRM is listed twice by Enedis: one PRM kept.
    expect(account.config.prms).toEqual([PRM]);
    expect(account.config.autorisationId).toBe(given.autorisationId);
    // Consent end = the service's dateFin (given + 3 years, Paris day), computed here independently.
    const end = new Date(given.givenAt);
    expect(new Date(account.config.consentExpiresAt as number).getUTCFullYear()).toBe(end.getUTCFullYear() + 3);
    expect(kit.events.filter((e) => e.name === "account_connected")).toEqual([{ name: "account_connected", payload: { accountId: account.id, provider: "enedis_data_connect" } }]);
    // Subscribed services asked with a client-credentials token.
    expect(sim.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      "GET /dataconnect/v2/oauth2/authorize 302",
      "POST /oauth2/v3/token 200",
      "POST /subscribed_services/v1 200",
    ]);
    // The list shows it, with its expiry.
    const list = (await kit.api("GET", "/api/accounts", { session: "browser-1" })).json<{ accounts: { id: string; expiresAt: number }[]; providers: { provider: string; kind: string }[] }>();
    expect(list.accounts).toEqual([expect.objectContaining({ id: account.id, status: "connected", expiresAt: account.config.consentExpiresAt })]);
    expect(list.providers.find((p) => p.provider === "enedis_data_connect")?.kind).toBe("redirect");
  });

  it("a replayed callback is rejected and changes nothing", async () => {
    const { callback } = await consent("browser-1");
    expect((await kit.api("GET", callback, { session: "browser-1" })).headers.location).toMatch(/connected=/);
    const before = JSON.stringify(listAccounts(kit.ctx.db));
    const replay = await kit.api("GET", callback, { session: "browser-1" });
    const loc = new URL(replay.headers.location as string, "http://x/base/callback/enedis_data_connect");
    expect(loc.pathname).toBe("/base/accounts");
    expect(loc.searchParams.get("error")).toBe("state_mismatch");
    expect(loc.searchParams.get("message")).toMatch(/not valid any more/);
    expect(JSON.stringify(listAccounts(kit.ctx.db))).toBe(before);
    expect(sim.requests.filter((r) => r.path === "/subscribed_services/v1")).toHaveLength(1);
  });

  it.each([
    ["tampered", (q: URLSearchParams) => q.set("state", `${q.get("state")!.slice(0, -1)}x`), "browser-1"],
    ["missing", (q: URLSearchParams) => q.delete("state"), "browser-1"],
    ["of another session", () => undefined, "browser-2"],
    ["without a session", () => undefined, ""],
  ])("a %s state is rejected, nothing stored, Enedis not called", async (_what, edit, session) => {
    const { callback } = await consent("browser-1");
    const [path, query] = callback.split("?") as [string, string];
    const q = new URLSearchParams(query);
    edit(q);
    const res = await kit.api("GET", `${path}?${q}`, { session });
    expect(new URLSearchParams((res.headers.location as string).split("?")[1]).get("error")).toBe("state_mismatch");
    expect(listAccounts(kit.ctx.db)).toEqual([]);
    expect(kit.events.filter((e) => e.name === "account_connected")).toEqual([]);
    expect(sim.requests.some((r) => r.path === "/subscribed_services/v1")).toBe(false);
    // The real browser can still finish with the untouched answer.
    expect((await kit.api("GET", callback, { session: "browser-1" })).headers.location).toMatch(/connected=/);
  });

  it.each([
    ["refuse", "access_denied", /declined/],
    ["already_shared", "already_shared", /already shared.*partage-donnees-tiers/],
  ] as const)("the user's answer %s comes back in plain words", async (answer, code, message) => {
    sim.nextAnswer = answer;
    const { callback } = await consent("browser-1");
    const res = await kit.api("GET", callback, { session: "browser-1" });
    const q = new URLSearchParams((res.headers.location as string).split("?")[1]);
    expect(q.get("error")).toBe(code);
    expect(q.get("message")).toMatch(message);
    expect(listAccounts(kit.ctx.db)).toEqual([]);
  });

  it("a consent withdrawn before the callback finishes → consent_revoked, nothing stored", async () => {
    const { callback } = await consent("browser-1");
    sim.revoke(sim.consents.at(-1)!.autorisationId);
    const res = await kit.api("GET", callback, { session: "browser-1" });
    expect(new URLSearchParams((res.headers.location as string).split("?")[1]).get("error")).toBe("consent_revoked");
    expect(listAccounts(kit.ctx.db)).toEqual([]);
  });

  it("reconnecting the same PRM replaces the account (same id, new autorisation_id)", async () => {
    for (let i = 0; i < 2; i++) {
      const { callback } = await consent("browser-1");
      await kit.api("GET", callback, { session: "browser-1" });
    }
    const accounts = listAccounts(kit.ctx.db);
    expect(accounts).toHaveLength(1);
    expect(accounts[0]!.config.autorisationId).toBe(sim.consents.at(-1)!.autorisationId);
  });

  it("rejects a callback URL that is not ours, and an unknown provider", async () => {
    const bad = await kit.api("POST", "/api/accounts/connect", { session: "s", body: { provider: "enedis_data_connect", input: {}, callbackUrl: "https://evil.example/steal" } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: "invalid_input" });
    const unknown = await kit.api("POST", "/api/accounts/connect", { session: "s", body: { provider: "nope", input: {}, callbackUrl: CALLBACK } });
    expect(unknown.statusCode).toBe(404);
    const malformed = await kit.api("POST", "/api/accounts/connect", { session: "s", body: { provider: 3 } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ error: "invalid_request" });
  });

  it("wrong application secret → a plain not_configured error at the callback, nothing stored, no secret logged", async () => {
    await kit.close();
    kit = await accountsKit({ settings: { enedis: { ...CLIENT, clientSecret: "wrong-secret-9999" }, enedisConsent: { authorizeUrl: sim.authorizeUrl, apiUrl: sim.baseUrl } } });
    const { callback } = await consent("browser-1");
    const res = await kit.api("GET", callback, { session: "browser-1" });
    const q = new URLSearchParams((res.headers.location as string).split("?")[1]);
    expect(q.get("error")).toBe("not_configured");
    expect(q.get("message")).toMatch(/enedis_client_secret/);
    expect(listAccounts(kit.ctx.db)).toEqual([]);
    assertNoSecretInLogs(kit.logs, ["wrong-secret-9999"]);
  });

  it("without application credentials: a plain not_configured error", async () => {
    await kit.close();
    kit = await accountsKit({});
    const res = await kit.api("POST", "/api/accounts/connect", { session: "s", body: { provider: "enedis_data_connect", input: {}, callbackUrl: CALLBACK } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: "not_configured", message: expect.stringMatching(/enedis_client_id/) });
  });
});
