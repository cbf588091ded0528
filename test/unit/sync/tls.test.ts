/**
 * TLS: with a certificate and key the sync server speaks HTTPS and WSS only; a client that trusts
 * the certificate authenticates over WSS, and the client link verifies certificates by default
 * (a self-signed one it was not told to trust is refused, never silently accepted).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ServerLink } from "../../../src/sync/client/link.js";
import { API_PREFIX } from "../../../src/sync/protocol.js";
import { waitFor } from "../../helpers/wait.js";
import { directClient, makeInstance, serve, type Instance } from "./fixture.js";

describe("sync server over TLS", () => {
  let srv: NonNullable<Instance["server"]>;
  let ca: Buffer;
  let token: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "eb-sync-tls-"));
    const certPath = join(dir, "cert.pem");
    const keyPath = join(dir, "key.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    ca = readFileSync(certPath);
    const inst = makeInstance();
    srv = await serve(inst, { tls: { certPath, keyPath } });
    token = (await directClient(srv)).token;
  });
  afterAll(async () => {
    await srv.http.close();
  });

  it("answers HTTPS with the certificate, and refuses plain HTTP", async () => {
    const status = await new Promise<number>((res, rej) => {
      get(`${srv.url}${API_PREFIX}/auth`, { ca, headers: { authorization: `Bearer ${token}` } }, (r) => {
        r.resume();
        res(r.statusCode ?? 0);
      }).on("error", rej);
    });
    expect(status).toBe(200);
    await expect(fetch(`${srv.url.replace("https", "http")}${API_PREFIX}/auth`)).rejects.toThrow();
  });

  it("authenticates over WSS for a client trusting the certificate", async () => {
    const ws = new WebSocket(`${srv.url.replace("https", "wss")}${API_PREFIX}/ws`, { ca });
    const first = await new Promise<{ type: string }>((res, rej) => {
      ws.on("open", () => ws.send(JSON.stringify({ type: "auth", token, instance_id: "88888888-0000-4000-8000-000000000008", protocol: 1 })));
      ws.on("message", (d) => res(JSON.parse(d.toString()) as { type: string }));
      ws.on("error", rej);
    });
    ws.terminate();
    expect(first.type).toBe("auth_ok");
  });

  it("the client link verifies certificates: an untrusted self-signed one never connects", async () => {
    const statuses: string[] = [];
    const link = new ServerLink(srv.url, () => token, "99999999-0000-4000-8000-000000000009", {
      onSnapshot: () => statuses.push("snapshot"),
      onDiff: () => undefined,
      onStatus: (s) => statuses.push(s),
    }, { maxBackoffMs: 200, connectTimeoutMs: 2000 });
    link.start();
    await waitFor("a failed attempt", async () => link.status === "disconnected" && /certificate/i.test(link.detail ?? ""), 5000);
    link.stop();
    expect(statuses).not.toContain("connected");
    expect(statuses).not.toContain("snapshot");
  });
});
