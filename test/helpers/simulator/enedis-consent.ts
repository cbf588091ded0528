/**
 * An Enedis Data Connect consent v2 simulator (project reference `enedis-2026.md` §8,
 * `providers.md` §1.2–1.3) on 127.0.0.1, its own server:
 * - `GET /dataconnect/v2/oauth2/authorize?client_id&response_type=code&state&duration[&redirect_uri]`:
 *   checks the parameters (client id, `response_type=code`, `state` ≤ 100 chars, `duration` an ISO
 *   8601 period of at most 3 years) — a bad request gets 400 `invalid_request` on the page itself
 *   (no redirect, as Enedis' page shows it). Then the user's answer (`nextAnswer`): `accept` → 302
 *   to the redirect URI with `autorisation_id` and `state` only; `refuse` → `error=access_denied`;
 *   `already_shared` → `error=access_denied` with Enedis' "déjà partagé" description. The redirect
 *   URI is the `redirect_uri` parameter, else the one registered (`registeredRedirectUri`).
 * - `POST /oauth2/v3/token` (client credentials) and everything else: forwarded to `upstream` (the
 *   provider simulator, which serves the metering API); the access tokens it issues are noted so
 *   `subscribed_services` accepts them. Without `upstream`, a token endpoint of its own.
 * - `POST /subscribed_services/v1 {"autorisationId", "comptage"}` with `Authorization: Bearer` →
 *   `{nbTotalServices, serviceSouscrit: [...]}`: one ACCES service per PRM, two for a
 *   self-consumption PRM (soutirage + injection, same `pointId`); a withdrawn (`revoke`) or unknown
 *   consent → 403 `{code, message}`; a bad token → 401 `900901`.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DateTime, Duration } from "luxon";

/** Options of {@link startEnedisConsentSimulator}. */
export interface EnedisConsentSimulatorOptions {
  clientId: string;
  clientSecret: string;
  /** PRM(s) the consenting user holds. Default ["12345678901234"]. */
  prms?: string[];
  /** A PRM that also injects (solar): its service is listed twice. */
  selfConsumption?: boolean;
  /** Metering + token server to forward to (provider simulator base URL). */
  upstream?: string;
  registeredRedirectUri?: string;
  now?: () => number;
}

/** What the user does on the consent page. */
export type ConsentAnswer = "accept" | "refuse" | "already_shared";

/** One consent given through the simulator. */
export interface SimConsent {
  autorisationId: string;
  prms: string[];
  duration: string;
  state: string;
  redirectUri: string;
  revoked: boolean;
  givenAt: number;
}

/** A running simulator. */
export interface EnedisConsentSimulator {
  baseUrl: string;
  /** `<baseUrl>/dataconnect/v2/oauth2/authorize`. */
  authorizeUrl: string;
  consents: SimConsent[];
  /** Every request: method, path (no query), status. */
  requests: { method: string; path: string; status: number }[];
  /** The answer of the next consent page visits (default accept). */
  nextAnswer: ConsentAnswer;
  revoke(autorisationId: string): void;
  close(): Promise<void>;
}

const MAX_DAYS = 3 * 366;

/** See the file comment. */
export async function startEnedisConsentSimulator(opts: EnedisConsentSimulatorOptions): Promise<EnedisConsentSimulator> {
  const now = opts.now ?? Date.now;
  const prms = opts.prms ?? ["12345678901234"];
  const tokens = new Set<string>();
  const consents: SimConsent[] = [];
  const requests: EnedisConsentSimulator["requests"] = [];

  const json = (res: ServerResponse, status: number, body: unknown, path: string, method: string) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(body));
    requests.push({ method, path, status });
  };

  function authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const bad = (description: string) => json(res, 400, { error: "invalid_request", error_description: description }, url.pathname, "GET");
    if (q.get("client_id") !== opts.clientId) return bad("unknown client_id");
    if (q.get("response_type") !== "code") return bad("missing_parameter: response_type");
    const state = q.get("state") ?? "";
    if (state.length === 0 || state.length > 100) return bad("state must be 1 to 100 characters");
    const duration = q.get("duration") ?? "";
    const d = Duration.fromISO(duration);
    if (!d.isValid) return bad("invalid_duration_format");
    const days = DateTime.fromMillis(now(), { zone: "Europe/Paris" }).plus(d).diff(DateTime.fromMillis(now(), { zone: "Europe/Paris" }), "days").days;
    if (days > MAX_DAYS || days <= 0) return bad("maximum_duration_exceeded");
    const redirectUri = q.get("redirect_uri") ?? opts.registeredRedirectUri;
    if (!redirectUri) return bad("no redirect URI registered");
    const target = new URL(redirectUri);
    if (sim.nextAnswer === "accept") {
      const autorisationId = `AUT-${randomBytes(9).toString("hex")}`;
      consents.push({ autorisationId, prms: [...prms], duration, state, redirectUri, revoked: false, givenAt: now() });
      target.searchParams.set("autorisation_id", autorisationId);
    } else {
      target.searchParams.set("error", "access_denied");
      target.searchParams.set(
        "error_description",
        sim.nextAnswer === "already_shared" ? "Les données de ce point sont déjà partagées avec ce service" : "L'utilisateur a refusé le partage",
      );
    }
    target.searchParams.set("state", state);
    res.writeHead(302, { location: target.href });
    res.end();
    requests.push({ method: "GET", path: url.pathname, status: 302 });
  }

  function subscribed(req: IncomingMessage, body: string, res: ServerResponse, path: string): void {
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : "";
    if (!tokens.has(token)) return json(res, 401, { code: "900901", message: "Invalid Credentials" }, path, "POST");
    let parsed: { autorisationId?: unknown };
    try {
      parsed = JSON.parse(body) as { autorisationId?: unknown };
    } catch {
      return json(res, 500, "Problème technique dans l'interrogation du SI coeur", path, "POST");
    }
    const c = consents.find((x) => x.autorisationId === parsed.autorisationId);
    if (!c || c.revoked) return json(res, 403, { code: "SGT403", message: "Le client n'est pas titulaire du point demandé" }, path, "POST");
    const start = DateTime.fromMillis(c.givenAt, { zone: "Europe/Paris" });
    const end = start.plus(Duration.fromISO(c.duration));
    const services = c.prms.flatMap((pointId) => {
      const base = { pointId, etatCode: "ACTIF", serviceCode: "ACCES", mesuresTypeCode: "CDC", dateDebut: start.toISODate(), dateFin: end.toISODate() };
      const list = [{ ...base, soutirage: true, injection: false }];
      if (opts.selfConsumption) list.push({ ...base, soutirage: false, injection: true });
      return list;
    });
    json(res, 200, { nbTotalServices: services.length, serviceSouscrit: services }, path, "POST");
  }

  async function forward(req: IncomingMessage, body: string, res: ServerResponse, url: URL): Promise<void> {
    if (!opts.upstream) {
      if (url.pathname === "/oauth2/v3/token") {
        const form = new URLSearchParams(body);
        let id = form.get("client_id");
        let secret = form.get("client_secret");
        if (req.headers.authorization?.startsWith("Basic ")) {
          [id, secret] = Buffer.from(req.headers.authorization.slice(6), "base64").toString().split(":").map(decodeURIComponent) as [string, string];
        }
        if (id !== opts.clientId || secret !== opts.clientSecret) return json(res, 401, { error: "invalid_client", error_description: "Client authentication failed" }, url.pathname, "POST");
        const t = randomBytes(16).toString("hex");
        tokens.add(t);
        return json(res, 200, { access_token: t, token_type: "Bearer", expires_in: "12600", scope: "" }, url.pathname, "POST");
      }
      return json(res, 404, { message: "Not found" }, url.pathname, req.method ?? "GET");
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && k !== "host" && k !== "content-length") headers[k] = v;
    const up = await fetch(new URL(url.pathname + url.search, opts.upstream), {
      method: req.method ?? "GET",
      headers,
      ...(req.method === "GET" || req.method === "HEAD" ? {} : { body }),
    });
    const text = await up.text();
    if (url.pathname === "/oauth2/v3/token" && up.ok) {
      const t = (JSON.parse(text) as { access_token?: string }).access_token;
      if (t) tokens.add(t);
    }
    res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json" });
    res.end(text);
    requests.push({ method: req.method ?? "GET", path: url.pathname, status: up.status });
  }

  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      try {
        if (req.method === "GET" && url.pathname === "/dataconnect/v2/oauth2/authorize") return authorize(url, res);
        if (req.method === "POST" && url.pathname === "/subscribed_services/v1") return subscribed(req, body, res, url.pathname);
        await forward(req, body, res, url);
      } catch (err) {
        json(res, 500, { message: `simulator error: ${String(err)}` }, url.pathname, req.method ?? "GET");
      }
    })();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const sim: EnedisConsentSimulator = {
    baseUrl,
    authorizeUrl: `${baseUrl}/dataconnect/v2/oauth2/authorize`,
    consents,
    requests,
    nextAnswer: "accept",
    revoke(id) {
      const c = consents.find((x) => x.autorisationId === id);
      if (!c) throw new Error(`no consent ${id}`);
      c.revoked = true;
    },
    close: () =>
      new Promise<void>((ok, ko) => {
        server.closeAllConnections();
        server.close((e) => (e ? ko(e) : ok()));
      }),
  };
  return sim;
}
