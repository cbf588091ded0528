/**
 * Tado device flow edge cases with Tado's own response shapes (providers reference §5.1–5.2),
 * through an injected fetch (fast; the real-server proof is test/e2e/tado-flow.test.ts): form
 * bodies sent with the public client id and no secret; a network failure while polling is not
 * final; a home that cannot be read after sign-in is a plain error with nothing stored; the home
 * chosen with `homeId` among several.
 */
import { describe, expect, it } from "vitest";
import { createOAuthStateStore } from "../../../src/auth/oauth-state.js";
import { createTadoFlow, TADO_CLIENT_ID } from "../../../src/auth/flows/tado.js";
import type { DevicePoll, FlowStart } from "../../../src/auth/flow.js";
import { tadoFixture } from "../../helpers/simulator/tado-fixture.js";

const req = { sessionId: "s", callbackUrl: "http://127.0.0.1/cb" };
type DeviceStart = Extract<FlowStart, { kind: "device" }>;
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

function fakeTado(opts: { homes?: { id: number; name: string }[]; homeStatus?: number; tokenFails?: number } = {}) {
  const bodies: { url: string; body: string; auth: string | null }[] = [];
  let tokenCalls = 0;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const body = typeof init?.body === "string" ? init.body : init?.body instanceof URLSearchParams ? init.body.toString() : "";
    bodies.push({ url, body, auth: new Headers(init?.headers).get("authorization") });
    if (url.endsWith("/oauth2/device_authorize")) {
      return json(200, { device_code: "XXX_code_XXX", expires_in: 300, interval: 5, user_code: "7BQ5ZQ", verification_uri: "https://login.tado.com/oauth2/device", verification_uri_complete: "https://login.tado.com/oauth2/device?user_code=7BQ5ZQ" });
    }
    if (url.endsWith("/oauth2/token")) {
      tokenCalls++;
      if (tokenCalls <= (opts.tokenFails ?? 0)) throw new TypeError("fetch failed");
      if (tokenCalls === (opts.tokenFails ?? 0) + 1) return json(400, { error: "authorization_pending" });
      return json(200, { access_token: "eyJraW0UQ", expires_in: 599, refresh_token: "xxx-refresh", scope: "home.user", token_type: "bearer", userId: "John" });
    }
    if (url.endsWith("/api/v2/me")) return json(200, { name: "Alice", homes: opts.homes ?? [{ id: 1234, name: "Test Home" }] });
    const m = /\/api\/v2\/homes\/(\d+)$/.exec(url);
    if (m) return opts.homeStatus ? json(opts.homeStatus, { errors: [] }) : json(200, { id: Number(m[1]), name: `Home ${m[1]}`, generation: "PRE_LINE_X" });
    return json(404, {});
  };
  return { fetch, bodies };
}

async function connect(fake: ReturnType<typeof fakeTado>, input: Record<string, string> = {}) {
  let clock = Date.UTC(2026, 0, 15, 12);
  const fx = tadoFixture(undefined, () => clock);
  const flow = createTadoFlow({ ...fx, now: () => clock, states: createOAuthStateStore(() => clock), fetch: fake.fetch });
  const start = (await flow.begin(input, req)) as DeviceStart;
  const polls: DevicePoll[] = [];
  for (let i = 0; i < 6; i++) {
    clock += 5_000;
    const p = await flow.poll!(start.flowId, req);
    polls.push(p);
    if (p.status !== "pending") break;
  }
  return { fx, start, polls };
}

describe("Tado device flow (Tado's shapes)", () => {
  it("sends the public client id, scope offline_access and no secret; shows Tado's code and link", async () => {
    const fake = fakeTado();
    const { start, polls, fx } = await connect(fake);
    expect(start).toMatchObject({ userCode: "7BQ5ZQ", verificationUri: "https://login.tado.com/oauth2/device", verificationUriComplete: "https://login.tado.com/oauth2/device?user_code=7BQ5ZQ", interval: 5 });
    const auth = new URLSearchParams(fake.bodies.find((b) => b.url.endsWith("/device_authorize"))!.body);
    expect(auth.get("client_id")).toBe(TADO_CLIENT_ID);
    expect(auth.get("scope")).toBe("offline_access");
    expect(auth.has("client_secret")).toBe(false);
    const token = new URLSearchParams(fake.bodies.find((b) => b.url.endsWith("/oauth2/token"))!.body);
    expect(token.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:device_code");
    expect(token.get("device_code")).toBe("XXX_code_XXX");
    expect(polls.map((p) => p.status)).toEqual(["pending", "connected"]);
    expect(fx.vault.get("tado_1234")).toMatchObject({ accessToken: "eyJraW0UQ", refreshToken: "xxx-refresh", expiresAt: Date.UTC(2026, 0, 15, 12) + 10_000 + 599_000 });
    // The API calls carry the access token as a bearer token.
    expect(fake.bodies.filter((b) => b.url.includes("/api/v2/")).every((b) => b.auth === "Bearer eyJraW0UQ")).toBe(true);
  });

  it("a network failure while polling is not final", async () => {
    const { polls } = await connect(fakeTado({ tokenFails: 2 }));
    expect(polls.map((p) => p.status)).toEqual(["pending", "pending", "pending", "connected"]);
  });

  it("signed in but the home cannot be read: a plain error, nothing stored", async () => {
    const { polls, fx } = await connect(fakeTado({ homeStatus: 500 }));
    const last = polls.at(-1) as { status: string; message: string };
    expect(last.status).toBe("error");
    expect(last.message).toMatch(/^Signed in to Tado, but your home could not be read: Tado answered HTTP 500/);
    expect(fx.db.prepare("SELECT count(*) AS n FROM accounts").get()).toEqual({ n: 0 });
    expect(fx.vault.get("tado_1234")).toBeUndefined();
  });

  it("several homes: the first, or the one `homeId` names; none → a plain error", async () => {
    const homes = [{ id: 1, name: "Flat" }, { id: 2, name: "Chalet" }];
    expect(((await connect(fakeTado({ homes }))).polls.at(-1) as { account: { id: string } }).account.id).toBe("tado_1");
    expect(((await connect(fakeTado({ homes }), { homeId: "2" })).polls.at(-1) as { account: { id: string } }).account.id).toBe("tado_2");
    const none = (await connect(fakeTado({ homes: [] }))).polls.at(-1) as { status: string; message: string };
    expect(none.message).toMatch(/no home/);
  });
});
