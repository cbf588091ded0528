/**
 * The JWT attack corpus against the real sync server (in process, loopback): every forged,
 * expired, misdirected, tampered, revoked or foreign token is refused by both `GET auth` (401)
 * and the WebSocket (`auth_invalid`), while the genuine token passes both.
 */
import { createHmac, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { exportJWK, generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from "jose";
import { API_PREFIX } from "../../../src/sync/protocol.js";
import { SYNC_JWT_AUDIENCE } from "../../../src/sync/server/tokens.js";
import { directClient, makeInstance, serve, type Instance } from "./fixture.js";

const b64u = (b: Buffer | string) => Buffer.from(b).toString("base64url");

async function wsAuth(url: string, token: string): Promise<{ type: string; reason?: string }> {
  const ws = new WebSocket(`${url.replace("http", "ws")}${API_PREFIX}/ws`);
  try {
    return await new Promise((res, rej) => {
      ws.on("open", () => ws.send(JSON.stringify({ type: "auth", token, instance_id: "bbbbbbbb-0000-4000-8000-000000000009", protocol: 1 })));
      ws.on("message", (d) => res(JSON.parse(d.toString()) as { type: string; reason?: string }));
      ws.on("error", rej);
      setTimeout(() => rej(new Error("no answer")), 5000);
    });
  } finally {
    ws.terminate();
  }
}

describe("sync server: JWT attack corpus", () => {
  let inst: Instance;
  let server: NonNullable<Instance["server"]>;
  let good: { token: string; jti: string; clientId: string };
  let other: { token: string; jti: string; clientId: string };
  let privateKey: CryptoKey;
  let publicJwk: JWK;
  const corpus: { name: string; token: string }[] = [];

  beforeAll(async () => {
    inst = makeInstance();
    server = await serve(inst);
    const a = await directClient(server, "a");
    const b = await directClient(server, "b", "cccccccc-0000-4000-8000-000000000002");
    good = { token: a.token, jti: a.jti, clientId: a.client.id };
    other = { token: b.token, jti: b.jti, clientId: b.client.id };
    // The genuine signing key, read back from the vault, to build validly signed bad tokens.
    privateKey = (await importJWK(JSON.parse(inst.vault.get("sync_server_signing_key")!.accessToken) as JWK, "EdDSA")) as CryptoKey;
    publicJwk = await server.authority.publicJwk();
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>, key: CryptoKey = privateKey, alg = "EdDSA") =>
      new SignJWT(claims).setProtectedHeader({ alg }).sign(key);
    const base = { sub: good.clientId, jti: good.jti, iss: inst.id, aud: SYNC_JWT_AUDIENCE, iat: now, exp: now + 3600 };
    const [h, p, s] = good.token.split(".") as [string, string, string];

    // alg none, with the genuine claims.
    corpus.push({ name: "alg none", token: new UnsecuredJWT(base).encode() });
    corpus.push({ name: "alg none, empty signature kept", token: `${b64u(JSON.stringify({ alg: "none", typ: "JWT" }))}.${p}.` });
    // HS256 keyed with the public key (the classic algorithm confusion), in its usual encodings.
    for (const [label, secret] of [
      ["public JWK JSON", JSON.stringify(publicJwk)],
      ["public key x (base64url)", publicJwk.x!],
      ["public key raw bytes", Buffer.from(publicJwk.x!, "base64url")],
    ] as const) {
      const header = b64u(JSON.stringify({ alg: "HS256", typ: "JWT" }));
      const payload = b64u(JSON.stringify(base));
      const sig = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
      corpus.push({ name: `HS256 signed with the ${label}`, token: `${header}.${payload}.${sig}` });
    }
    corpus.push({ name: "expired", token: await sign({ ...base, iat: now - 7200, exp: now - 3600 }) });
    corpus.push({ name: "wrong issuer", token: await sign({ ...base, iss: randomUUID() }) });
    corpus.push({ name: "wrong audience", token: await sign({ ...base, aud: "home-assistant" }) });
    corpus.push({ name: "no audience", token: await sign({ sub: base.sub, jti: base.jti, iss: base.iss, iat: now, exp: now + 3600 }) });
    corpus.push({ name: "no expiry", token: await sign({ sub: base.sub, jti: base.jti, iss: base.iss, aud: base.aud, iat: now }) });
    // Tampered payload: another client's id (and a longer expiry) under the genuine signature.
    corpus.push({ name: "tampered payload (sub)", token: `${h}.${b64u(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), sub: other.clientId }))}.${s}` });
    corpus.push({ name: "tampered payload (exp)", token: `${h}.${b64u(JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), exp: now + 10 * 365 * 86400 }))}.${s}` });
    corpus.push({ name: "tampered signature", token: `${h}.${p}.${s.slice(0, -4)}AAAA` });
    // Signed by another key (another server's, or an attacker's ES256 key with our issuer).
    const foreign = await generateKeyPair("EdDSA");
    corpus.push({ name: "signed by another server's key", token: await sign(base, foreign.privateKey) });
    const es = await generateKeyPair("ES256");
    corpus.push({ name: "ES256 with an attacker key", token: await sign(base, es.privateKey, "ES256") });
    // Embedded key header (jwk) pointing at the attacker's own key.
    const embedded = await new SignJWT(base).setProtectedHeader({ alg: "EdDSA", jwk: await exportJWK(foreign.publicKey) }).sign(foreign.privateKey);
    corpus.push({ name: "embedded jwk header", token: embedded });
    // Genuinely signed, but: unknown jti; jti of another client; (revoked jti below).
    corpus.push({ name: "unknown jti", token: await sign({ ...base, jti: randomUUID() }) });
    corpus.push({ name: "another client's jti under my sub", token: await sign({ ...base, jti: other.jti }) });
    corpus.push({ name: "garbage", token: "not.a.jwt" });
    corpus.push({ name: "empty segments", token: ".." });
  });

  afterAll(async () => {
    await server.http.close();
  });

  it("accepts the genuine token (so the refusals below are meaningful)", async () => {
    const r = await fetch(`${server.url}${API_PREFIX}/auth`, { headers: { authorization: `Bearer ${good.token}` } });
    expect(r.status).toBe(200);
    expect((await wsAuth(server.url, good.token)).type).toBe("auth_ok");
  });

  it("refuses 100 % of the corpus over HTTP and WebSocket", async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(20);
    const accepted: string[] = [];
    for (const c of corpus) {
      const r = await fetch(`${server.url}${API_PREFIX}/auth`, { headers: { authorization: `Bearer ${c.token}` } });
      if (r.status !== 401) accepted.push(`HTTP ${r.status}: ${c.name}`);
      const w = await wsAuth(server.url, c.token).catch(() => ({ type: "closed" }));
      if (w.type !== "auth_invalid" && w.type !== "error" && w.type !== "closed") accepted.push(`WS ${w.type}: ${c.name}`);
    }
    expect(accepted).toEqual([]);
  });

  it("refuses a revoked jti and an expired token with their reasons", async () => {
    const c = await directClient(server, "c", "dddddddd-0000-4000-8000-000000000003");
    expect((await wsAuth(server.url, c.token)).type).toBe("auth_ok");
    server.authority.revokeToken(c.jti);
    const r = await fetch(`${server.url}${API_PREFIX}/auth`, { headers: { authorization: `Bearer ${c.token}` } });
    expect(r.status).toBe(401);
    expect(((await r.json()) as { error: string }).error).toBe("revoked");
    expect(await wsAuth(server.url, c.token)).toMatchObject({ type: "auth_invalid", reason: "revoked" });
    const expired = corpus.find((x) => x.name === "expired")!;
    expect(await wsAuth(server.url, expired.token)).toMatchObject({ type: "auth_invalid", reason: "expired" });
  });

  it("lets a client revoke only itself over HTTP", async () => {
    const r = await fetch(`${server.url}${API_PREFIX}/revoke_client`, {
      method: "POST",
      headers: { authorization: `Bearer ${good.token}`, "content-type": "application/json" },
      body: JSON.stringify({ client_id: other.clientId }),
    });
    expect(r.status).toBe(403);
    expect((await fetch(`${server.url}${API_PREFIX}/auth`, { headers: { authorization: `Bearer ${other.token}` } })).status).toBe(200);
  });
});
