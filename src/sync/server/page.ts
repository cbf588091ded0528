/**
 * The server's Mirror page and its JSON API (mounted by the web module behind ingress, so only the
 * HA owner reaches it): exposed entities with search (global exposure; per client and per group
 * through the API), a one-time pairing code, and the clients with last seen, what each sees, and
 * revoke. Paths: `GET /sync`, `GET /sync/api/server`, `POST /sync/api/expose`,
 * `POST /sync/api/pairing`, `POST /sync/api/revoke`, `POST /sync/api/client`.
 */
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { esc, pageHtml, pageLang } from "../page-kit.js";
import type { Exposure } from "./acl.js";
import type { ClientRegistry } from "./clients.js";
import type { SessionSet } from "./sessions.js";
import type { StateHub } from "./states.js";

/** What the page needs. */
export interface ServerPageDeps {
  clients: ClientRegistry;
  exposure: Exposure;
  hub: StateHub;
  sessions: SessionSet;
  revoke(clientId: string): boolean;
  now: () => number;
}

const STRINGS = {
  en: { title: "Mirror — server", entities: "Entities", search: "Search", shared: "Shared with every client", pair: "Create a pairing code", code: "Pairing code (valid 15 minutes, once):", clients: "Clients", name: "Name", seen: "Last seen", sees: "Sees", revoke: "Revoke", revoked: "revoked", online: "connected", none: "No client yet." },
  fr: { title: "Miroir — serveur", entities: "Entités", search: "Rechercher", shared: "Partagée avec tous les clients", pair: "Créer un code d'appairage", code: "Code d'appairage (valable 15 minutes, une fois) :", clients: "Clients", name: "Nom", seen: "Vu pour la dernière fois", sees: "Voit", revoke: "Révoquer", revoked: "révoqué", online: "connecté", none: "Aucun client pour l'instant." },
};

const exposeBody = z.object({
  scope: z.enum(["all", "client", "group"]),
  target: z.string().max(100).default(""),
  entity_ids: z.array(z.string().regex(/^[a-z_]+\.[a-z0-9_]+$/)).max(5000),
  on: z.boolean(),
});

/** The plugin (see the file comment). */
export function serverPagePlugin(d: ServerPageDeps): FastifyPluginAsync {
  return async (app) => {
    app.get("/sync", async (req, reply) => {
      const lang = pageLang(req.query, req.headers.cookie, req.headers["accept-language"]);
      const s = STRINGS[lang];
      const body = `<h2>${esc(s.pair)}</h2><p><button id="pair">${esc(s.pair)}</button> <span id="code"></span></p>
<h2>${esc(s.clients)}</h2><table id="clients"></table>
<h2>${esc(s.entities)}</h2><p><input id="q" type="search" placeholder="${esc(s.search)}"></p><table id="ents"></table>`;
      const script = `let data;async function load(){data=await api("sync/api/server");draw()}
function draw(){const q=document.getElementById("q").value.toLowerCase();
document.getElementById("clients").innerHTML=data.clients.length?"<tr><th>"+T.name+"</th><th>"+T.seen+"</th><th>"+T.sees+"</th><th></th></tr>"+data.clients.map(c=>"<tr><td>"+esc(c.name)+(c.group?" <span class=mut>("+esc(c.group)+")</span>":"")+"</td><td>"+(c.connected?"<span class=ok>"+T.online+"</span>":when(c.lastSeenAt))+"</td><td class=mut>"+esc(c.sees.join(", "))+"</td><td>"+(c.revokedAt?"<span class=bad>"+T.revoked+"</span>":"<button data-rev='"+esc(c.id)+"'>"+T.revoke+"</button>")+"</td></tr>").join(""):"<tr><td class=mut>"+T.none+"</td></tr>";
document.getElementById("ents").innerHTML="<tr><th>"+T.shared+"</th><th></th><th></th></tr>"+data.entities.filter(e=>!q||e.entity_id.includes(q)||(e.name||"").toLowerCase().includes(q)).slice(0,500).map(e=>"<tr><td><input type=checkbox data-ent='"+esc(e.entity_id)+"'"+(e.global?" checked":"")+"></td><td>"+esc(e.name||"")+" <code class=mut>"+esc(e.entity_id)+"</code></td><td>"+esc(e.state)+"</td></tr>").join("")}
document.getElementById("q").oninput=draw;
document.addEventListener("change",async ev=>{const id=ev.target.dataset.ent;if(!id)return;await api("sync/api/expose",{scope:"all",target:"",entity_ids:[id],on:ev.target.checked});load()});
document.addEventListener("click",async ev=>{const id=ev.target.dataset.rev;if(id){await api("sync/api/revoke",{client_id:id});load()}});
document.getElementById("pair").onclick=async()=>{const r=await api("sync/api/pairing",{});document.getElementById("code").innerHTML=T.code+" <code>"+esc(r.code)+"</code>"};
load();`;
      return reply.type("text/html; charset=utf-8").send(pageHtml(lang, s.title, body, s, script));
    });

    app.get("/sync/api/server", async () => {
      const rows = d.exposure.list();
      const global = new Set(rows.filter((r) => r.scope === "all").map((r) => r.entityId));
      const connected = d.sessions.connectedClients();
      const clients = d.clients.list().map((c) => {
        const allowed = d.exposure.allowedFor(c);
        const sees = [...d.hub.states.values()].filter((s) => d.exposure.visible(s, allowed, c.instanceId)).map((s) => s.entity_id);
        return { ...c, connected: (connected.get(c.id) ?? 0) > 0, sees };
      });
      const entities = [...d.hub.states.values()]
        .filter((s) => s.path.length === 1 || d.exposure.reexportMirrored)
        .map((s) => ({
          entity_id: s.entity_id,
          name: typeof s.attributes.friendly_name === "string" ? s.attributes.friendly_name : null,
          state: s.state,
          global: global.has(s.entity_id),
        }))
        .sort((a, b) => a.entity_id.localeCompare(b.entity_id));
      return { clients, exposure: rows, entities };
    });

    app.post("/sync/api/expose", async (req, reply) => {
      const b = exposeBody.safeParse(req.body);
      if (!b.success) return reply.code(400).send({ error: "bad_request", message: b.error.issues[0]?.message });
      d.exposure.set(b.data.scope, b.data.target, b.data.entity_ids, b.data.on);
      d.sessions.resnapshot();
      return { ok: true };
    });

    app.post("/sync/api/pairing", async (req) => {
      const group = (req.body as { group?: unknown } | undefined)?.group;
      return d.clients.createPairingCode(typeof group === "string" && group ? group : null);
    });

    app.post("/sync/api/revoke", async (req, reply) => {
      const id = (req.body as { client_id?: unknown } | undefined)?.client_id;
      if (typeof id !== "string" || !d.revoke(id)) return reply.code(404).send({ error: "not_found", message: "no such client" });
      return { revoked: true };
    });

    app.post("/sync/api/client", async (req, reply) => {
      const b = z
        .object({ client_id: z.string(), group: z.string().max(60).nullable().optional(), token_days: z.number().int().min(1).max(3650).optional() })
        .safeParse(req.body);
      if (!b.success || !d.clients.get(b.data.client_id)) return reply.code(400).send({ error: "bad_request", message: "unknown client or bad values" });
      d.clients.update(b.data.client_id, {
        ...(b.data.group !== undefined ? { group: b.data.group } : {}),
        ...(b.data.token_days !== undefined ? { tokenDays: b.data.token_days } : {}),
      });
      d.sessions.resnapshot();
      return { ok: true };
    });
  };
}
