import { describe, expect, it } from "vitest";
import * as oidc from "openid-client";
import { FlowError } from "../../../src/auth/flow.js";
import { createOAuthStateStore, MAX_PENDING_STATES, STATE_TTL_MS } from "../../../src/auth/oauth-state.js";

function mismatch(fn: () => unknown): FlowError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlowError);
    expect((err as FlowError).code).toBe("state_mismatch");
    expect((err as FlowError).message).not.toMatch(/state=|[A-Za-z0-9_-]{43}/);
    return err as FlowError;
  }
  throw new Error("expected a state_mismatch");
}

describe("oauth-state store", () => {
  const expect_ = { provider: "cozy", sessionId: "session-a" };

  it("gives a random state and an S256 challenge of a verifier that only consume() returns", async () => {
    const store = createOAuthStateStore();
    const a = await store.create({ ...expect_, pkce: true, data: { instance: "alice.mycozy.cloud" } });
    const b = await store.create({ ...expect_, pkce: true });
    expect(a.state).not.toBe(b.state);
    expect(a.state.length).toBeGreaterThanOrEqual(43);
    const entry = store.consume<{ instance: string }>(a.state, expect_);
    expect(entry.data.instance).toBe("alice.mycozy.cloud");
    // The challenge is the S256 of the verifier the server kept (computed independently).
    expect(await oidc.calculatePKCECodeChallenge(entry.codeVerifier!)).toBe(a.codeChallenge);
    expect(JSON.stringify(a)).not.toContain(entry.codeVerifier!);
  });

  it("is single use: a replayed state is rejected", async () => {
    const store = createOAuthStateStore();
    const { state } = await store.create(expect_);
    store.consume(state, expect_);
    mismatch(() => store.consume(state, expect_));
  });

  it("rejects a missing, empty or tampered state", async () => {
    const store = createOAuthStateStore();
    const { state } = await store.create(expect_);
    mismatch(() => store.consume(undefined, expect_));
    mismatch(() => store.consume("", expect_));
    const tampered = (state[0] === "A" ? "B" : "A") + state.slice(1);
    mismatch(() => store.consume(tampered, expect_));
    // The genuine one still works afterwards.
    expect(store.consume(state, expect_).sessionId).toBe("session-a");
  });

  it("rejects another session or provider without consuming (the real browser can still finish)", async () => {
    const store = createOAuthStateStore();
    const { state } = await store.create(expect_);
    mismatch(() => store.consume(state, { provider: "cozy", sessionId: "session-b" }));
    mismatch(() => store.consume(state, { provider: "ores", sessionId: "session-a" }));
    mismatch(() => store.consume(state, { provider: "cozy", sessionId: "" }));
    expect(store.consume(state, expect_).provider).toBe("cozy");
  });

  it("expires after 10 minutes", async () => {
    let t = 1_000_000;
    const store = createOAuthStateStore(() => t);
    const { state } = await store.create(expect_);
    const { state: fresh } = await store.create(expect_);
    t += STATE_TTL_MS - 1;
    expect(store.consume(fresh, expect_).createdAt).toBe(1_000_000);
    t += 1;
    mismatch(() => store.consume(state, expect_));
    expect(store.size()).toBe(0);
  });

  it("refuses to create a state without a session, and bounds memory", async () => {
    const store = createOAuthStateStore();
    await expect(store.create({ provider: "cozy", sessionId: "" })).rejects.toThrow(/session/);
    const first = await store.create(expect_);
    for (let i = 0; i < MAX_PENDING_STATES + 5; i++) await store.create(expect_);
    expect(store.size()).toBe(MAX_PENDING_STATES);
    mismatch(() => store.consume(first.state, expect_));
  });
});
