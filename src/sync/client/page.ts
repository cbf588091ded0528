/**
 * The client's Mirror page: the followed servers, their link status, and the imported entities;
 * without a broker, what the REST fallback cannot do. `GET /sync-client`, `GET /sync-client/api`.
 */
import type { FastifyPluginAsync } from "fastify";
import { esc, pageHtml, pageLang } from "../page-kit.js";
import type { Follower } from "./follower.js";

const STRINGS = {
  en: {
    title: "Mirror — client", server: "Server", status: "Status", entities: "Imported entities", none: "No server configured (option sync_client_servers).",
    rest: "No MQTT broker: only sensors and binary sensors are shown, as plain states without unique ids; switches, lights, climate and covers cannot be mirrored or controlled.",
  },
  fr: {
    title: "Miroir — client", server: "Serveur", status: "État", entities: "Entités importées", none: "Aucun serveur configuré (option sync_client_servers).",
    rest: "Pas de broker MQTT : seuls les capteurs et capteurs binaires sont affichés, comme de simples états sans identifiant unique ; interrupteurs, lumières, thermostats et volets ne peuvent être ni reflétés ni commandés.",
  },
};

/** The plugin. */
export function clientPagePlugin(d: { followers: () => Follower[]; mode: "mqtt" | "rest" }): FastifyPluginAsync {
  return async (app) => {
    app.get("/sync-client", async (req, reply) => {
      const lang = pageLang(req.query, req.headers.cookie, req.headers["accept-language"]);
      const s = STRINGS[lang];
      const body = `${d.mode === "rest" ? `<p class="bad">${esc(s.rest)}</p>` : ""}<table id="srv"></table>`;
      const script = `async function load(){const v=await api("sync-client/api");
document.getElementById("srv").innerHTML=v.length?"<tr><th>"+T.server+"</th><th>"+T.status+"</th><th>"+T.entities+"</th></tr>"+v.map(f=>"<tr><td>"+esc(f.name)+"<br><code class=mut>"+esc(f.url)+"</code></td><td class="+(f.status==="connected"?"ok":"bad")+">"+esc(f.status)+(f.detail?"<br><span class=mut>"+esc(f.detail)+"</span>":"")+"</td><td class=mut>"+esc(f.entities.join(", "))+"</td></tr>").join(""):"<tr><td class=mut>"+T.none+"</td></tr>"}
load();setInterval(load,5000);`;
      return reply.type("text/html; charset=utf-8").send(pageHtml(lang, s.title, body, s, script));
    });
    app.get("/sync-client/api", async () => d.followers().map((f) => f.view()));
  };
}
