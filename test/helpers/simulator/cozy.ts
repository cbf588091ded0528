/**
 * A local cozy-stack simulator for Ecolyo (tests and the demo), on 127.0.0.1 with a free port,
 * following cozy-stack `docs/auth.md`, `docs/mango.md`, `web/auth/oauth.go` as summarised in the
 * project's provider reference §4, quirks included:
 * - `POST /auth/register` (JSON; `redirect_uris`, `client_name`, `software_id` required) → 201
 *   with `client_id`, `client_secret`, `registration_access_token`, no `registration_client_uri`;
 *   `DELETE /auth/register/:id` with the registration token as Bearer → 204 (revokes its tokens).
 * - `GET /auth/authorize` (`client_id`, exact `redirect_uri`, `state`, `response_type=code`,
 *   `scope`, PKCE `code_challenge` + `S256` only): the user "accepts" at once → 302 to
 *   `redirect_uri?state=…&code=…#` (no `iss`); bad parameters → 400 (no `?error=` redirect).
 * - `POST /auth/access_token` (form; client_secret_post only): no `expires_in`; a refresh returns
 *   no new refresh token; errors are 400 `{"error":"<sentence>"}` ("invalid code", "invalid
 *   code_verifier", "invalid refresh token", "the client must be registered"…).
 * - No discovery: `/.well-known/*` → 404.
 * - `POST /data/:doctype/_index` → `{"result":"created"|"exists","id":"_design/…","name"}`;
 *   `POST /data/:doctype/_find` needs a Bearer access token whose scope covers the doctype, a
 *   `use_index` that exists and a sort on its fields (else 400); selector: equality, `$gt/$gte/
 *   $lt/$lte`; `limit` ≤ 1000 (default 100); `next` + `bookmark` pagination; unknown doctype → 404.
 * Access tokens are HS256 JWTs with `iat`, `sub` = client id, `scope`.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT } from "jose";
import type { EcolyoSimDoc } from "./cozy-data.js";

/** Options of {@link startCozySimulator}. */
export interface CozySimulatorOptions {
  /** Docs per doctype (any shape: bad docs test the parser). */
  docs: Record<string, unknown[]>;
  now?: () => number;
}

/** An injected answer for the next matching request. */
export interface CozyFailure {
  /** Path prefix, e.g. "/data/com.grandlyon.egl.day/_find" or "/auth/access_token". */
  path: string;
  status: number;
  /** A string is sent raw (malformed JSON, text), anything else as JSON. */
  body: unknown;
  times?: number;
}

/** The running simulator. */
export interface CozySimulator {
  /** `http://127.0.0.1:<port>`: the instance URL. */
  url: string;
  docs: Record<string, unknown[]>;
  /** Requests per path (without query), e.g. counts["/data/com.grandlyon.egl.day/_find"]. */
  counts: Map<string, number>;
  /** Registered clients by id. */
  clients: Map<string, { secret: string; registrationToken: string; redirectUris: string[] }>;
  /** Issues an access + refresh token for a new client directly (tests that skip the flow). */
  issueTokens(scope?: string): Promise<{ accessToken: string; refreshToken: string; clientId: string; clientSecret: string; registrationAccessToken: string }>;
  /** Revokes every access token (the next data call answers 401). */
  revokeAccessTokens(): void;
  fail(f: CozyFailure): void;
  close(): Promise<void>;
}

const SECRET = new TextEncoder().encode("cozy-simulator-secret-cozy-simulator");
const ALL_SCOPES = "com.grandlyon.enedis.*:GET com.grandlyon.grdf.*:GET com.grandlyon.egl.*:GET";

/** Starts the simulator (see the file comment). */
export async function startCozySimulator(opts: CozySimulatorOptions): Promise<CozySimulator> {
  const now = opts.now ?? Date.now;
  const clients: CozySimulator["clients"] = new Map();
  const codes = new Map<string, { clientId: string; redirectUri: string; challenge: string; scope: string; at: number }>();
  const refreshTokens = new Map<string, { clientId: string; scope: string }>();
  const accessTokens = new Map<string, { clientId: string; scope: string }>();
  const indexes = new Map<string, string[]>(); // "_design/<hash>" → fields
  const failures: CozyFailure[] = [];
  const counts = new Map<string, number>();
  let url = "";

  const issueAccess = async (clientId: string, scope: string) => {
    const token = await new SignJWT({ scope, aud: "access" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(new URL(url).host)
      .setSubject(clientId)
      .setIssuedAt(Math.floor(now() / 1000))
      .setJti(randomBytes(8).toString("hex"))
      .sign(SECRET);
    accessTokens.set(token, { clientId, scope });
    return token;
  };
  const covers = (scope: string, doctype: string) =>
    scope.split(" ").some((s) => {
      const [type, verbs = "ALL"] = s.split(":");
      const okVerb = verbs === "ALL" || verbs.split(",").includes("GET");
      return okVerb && (type === doctype || (type!.endsWith(".*") && doctype.startsWith(type!.slice(0, -1))));
    });

  async function handle(req: IncomingMessage, body: string): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const u = new URL(req.url ?? "/", url);
    const path = u.pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const failure = failures.find((f) => path.startsWith(f.path));
    if (failure) {
      if (--failure.times! <= 0) failures.splice(failures.indexOf(failure), 1);
      return { status: failure.status, body: failure.body };
    }
    const json = () => {
      try {
        return JSON.parse(body) as Record<string, unknown>;
      } catch {
        return null;
      }
    };
    if (path.startsWith("/.well-known/")) return { status: 404, body: { error: "not_found" } };
    if (path === "/auth/register" && req.method === "POST") {
      const b = json();
      const uris = b?.redirect_uris;
      if (!b || !Array.isArray(uris) || uris.length === 0 || typeof b.client_name !== "string" || typeof b.software_id !== "string") {
        return { status: 400, body: { error: "invalid_client_metadata" } };
      }
      const id = randomBytes(16).toString("hex");
      const client = { secret: randomBytes(24).toString("base64url"), registrationToken: randomBytes(24).toString("base64url"), redirectUris: uris as string[] };
      clients.set(id, client);
      return {
        status: 201,
        body: {
          client_id: id,
          client_secret: client.secret,
          client_secret_expires_at: 0,
          registration_access_token: client.registrationToken,
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          redirect_uris: uris,
          client_name: b.client_name,
          software_id: b.software_id,
        },
      };
    }
    const reg = /^\/auth\/register\/([^/]+)$/.exec(path);
    if (reg && req.method === "DELETE") {
      const client = clients.get(reg[1]!);
      if (!client || req.headers.authorization !== `Bearer ${client.registrationToken}`) return { status: 401, body: { error: "invalid token" } };
      clients.delete(reg[1]!);
      for (const m of [accessTokens, refreshTokens]) for (const [k, v] of m) if (v.clientId === reg[1]) m.delete(k);
      return { status: 204, body: "" };
    }
    if (path === "/auth/authorize" && req.method === "GET") {
      const q = u.searchParams;
      const client = clients.get(q.get("client_id") ?? "");
      const redirect = q.get("redirect_uri") ?? "";
      if (!client) return { status: 400, body: { error: "the client must be registered" } };
      if (!client.redirectUris.includes(redirect)) return { status: 400, body: { error: "the redirect_uri parameter doesn't match the registered ones" } };
      if (!q.get("state")) return { status: 400, body: { error: "the state parameter is mandatory" } };
      if (q.get("response_type") !== "code") return { status: 400, body: { error: "Invalid response type" } };
      if (q.get("code_challenge") && q.get("code_challenge_method") !== "S256") return { status: 400, body: { error: "Invalid code_challenge_method" } };
      const code = randomBytes(16).toString("hex");
      codes.set(code, { clientId: q.get("client_id")!, redirectUri: redirect, challenge: q.get("code_challenge") ?? "", scope: q.get("scope") ?? "", at: now() });
      const to = new URL(redirect);
      to.searchParams.set("state", q.get("state")!);
      to.searchParams.set("code", code);
      return { status: 302, body: "", headers: { Location: `${to.href}#` } };
    }
    if (path === "/auth/access_token" && req.method === "POST") {
      const f = new URLSearchParams(body);
      const grant = f.get("grant_type");
      if (!grant) return { status: 400, body: { error: "the grant_type parameter is mandatory" } };
      const client = clients.get(f.get("client_id") ?? "");
      if (!client) return { status: 400, body: { error: "the client must be registered" } };
      if (f.get("client_secret") !== client.secret) return { status: 400, body: { error: "invalid client_secret" } };
      if (grant === "authorization_code") {
        const c = codes.get(f.get("code") ?? "");
        codes.delete(f.get("code") ?? "");
        if (!c || c.clientId !== f.get("client_id") || now() - c.at > 5 * 60_000) return { status: 400, body: { error: "invalid code" } };
        if (c.challenge) {
          const v = f.get("code_verifier") ?? "";
          if (createHash("sha256").update(v).digest("base64url") !== c.challenge) return { status: 400, body: { error: "invalid code_verifier" } };
        }
        const refresh = randomBytes(24).toString("base64url");
        refreshTokens.set(refresh, { clientId: c.clientId, scope: c.scope });
        return { status: 200, body: { access_token: await issueAccess(c.clientId, c.scope), token_type: "bearer", refresh_token: refresh, scope: c.scope } };
      }
      if (grant === "refresh_token") {
        const r = refreshTokens.get(f.get("refresh_token") ?? "");
        if (!r || r.clientId !== f.get("client_id")) return { status: 400, body: { error: "invalid refresh token" } };
        return { status: 200, body: { access_token: await issueAccess(r.clientId, r.scope), token_type: "bearer", scope: r.scope } };
      }
      return { status: 400, body: { error: "invalid grant type" } };
    }
    const data = /^\/data\/([^/]+)\/(_index|_find)$/.exec(path);
    if (data && req.method === "POST") {
      const doctype = decodeURIComponent(data[1]!);
      const auth = accessTokens.get(req.headers.authorization?.replace(/^Bearer /, "") ?? "");
      if (!auth) return { status: 401, body: { status: 401, error: "Unauthorized", reason: "Invalid JWT token" } };
      if (!covers(auth.scope, doctype)) return { status: 403, body: { status: 403, error: "Forbidden", reason: "no permission" } };
      const b = json();
      if (!b) return { status: 400, body: { status: 400, error: "bad_request", reason: "invalid JSON" } };
      if (data[2] === "_index") {
        const fields = (b.index as { fields?: unknown } | undefined)?.fields;
        if (!Array.isArray(fields) || fields.length === 0) return { status: 400, body: { status: 400, error: "bad_request", reason: "Missing required property: index.fields" } };
        const id = `_design/${createHash("sha1").update(`${doctype} ${fields.join(",")}`).digest("hex").slice(0, 20)}`;
        const exists = indexes.has(id);
        indexes.set(id, fields as string[]);
        return { status: 200, body: { result: exists ? "exists" : "created", id, name: id.slice(8) } };
      }
      if (!(doctype in opts.docs)) return { status: 404, body: { status: 404, error: "not_found", reason: "Database does not exist." } };
      return find(opts.docs[doctype]!, b, indexes);
    }
    return { status: 404, body: { status: 404, error: "not_found", reason: "no route" } };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString("utf8")));
    req.on("end", () => {
      handle(req, body)
        .then((r) => {
          const text = typeof r.body === "string" ? r.body : JSON.stringify(r.body);
          res.writeHead(r.status, { "Content-Type": typeof r.body === "string" ? "text/plain" : "application/json", ...r.headers });
          res.end(r.status === 204 ? undefined : text);
        })
        .catch((err: Error) => {
          res.writeHead(500, { "Content-Type": "application/json" });
          res.end(JSON.stringify({ error: err.message }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    docs: opts.docs,
    counts,
    clients,
    async issueTokens(scope = ALL_SCOPES) {
      const clientId = randomBytes(16).toString("hex");
      const client = { secret: randomBytes(24).toString("base64url"), registrationToken: randomBytes(24).toString("base64url"), redirectUris: ["http://127.0.0.1/cb"] };
      clients.set(clientId, client);
      const refreshToken = randomBytes(24).toString("base64url");
      refreshTokens.set(refreshToken, { clientId, scope });
      return { accessToken: await issueAccess(clientId, scope), refreshToken, clientId, clientSecret: client.secret, registrationAccessToken: client.registrationToken };
    },
    revokeAccessTokens: () => accessTokens.clear(),
    fail: (f) => failures.push({ times: 1, ...f }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Cond = Record<string, unknown>;

/** Mango `_find` over `docs` (see the file comment). */
function find(docs: unknown[], b: Record<string, unknown>, indexes: Map<string, string[]>): { status: number; body: unknown } {
  const bad = (reason: string) => ({ status: 400, body: { status: 400, error: "bad_request", reason } });
  const fields = indexes.get(String(b.use_index ?? ""));
  if (!fields) return bad("no_usable_index: no index matches the query");
  const sort = (Array.isArray(b.sort) ? b.sort : []) as Record<string, string>[];
  const sortFields = sort.map((s) => Object.keys(s)[0]!);
  if (sortFields.join(",") !== fields.slice(0, sortFields.length).join(",") || sort.some((s) => Object.values(s)[0] !== "asc")) {
    return bad("the sort must match the index fields, in one direction");
  }
  const limit = b.limit === undefined ? 100 : Number(b.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return bad("limit must be between 1 and 1000");
  const selector = (b.selector ?? {}) as Record<string, unknown>;
  const match = (d: Record<string, unknown>) =>
    Object.entries(selector).every(([k, cond]) => {
      const v = d[k] as number;
      if (cond === null || typeof cond !== "object") return v === cond;
      return Object.entries(cond as Cond).every(([op, x]) =>
        op === "$gte" ? v >= (x as number) : op === "$lte" ? v <= (x as number) : op === "$gt" ? v > (x as number) : op === "$lt" ? v < (x as number) : op === "$eq" ? v === x : false,
      );
    });
  const all = docs
    .map((d, i) => ({ d: d as Record<string, unknown>, i }))
    .filter(({ d }) => d && typeof d === "object" && match(d))
    .sort((a, b2) => {
      for (const f of fields) {
        const x = Number(a.d[f] ?? 0) - Number(b2.d[f] ?? 0);
        if (x !== 0) return x;
      }
      return a.i - b2.i;
    });
  const offset = b.bookmark ? Number(Buffer.from(String(b.bookmark), "base64url").toString("utf8")) : 0;
  const page = all.slice(offset, offset + limit).map(({ d }) => d);
  const next = offset + limit < all.length;
  return { status: 200, body: { docs: page, limit, next, bookmark: Buffer.from(String(offset + page.length)).toString("base64url") } };
}

export type { EcolyoSimDoc };
