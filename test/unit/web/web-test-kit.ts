/** Shared setup of the web unit tests: a server built with a log that is captured, and cookie helpers. */
import { pino } from "pino";
import type { FastifyPluginAsync } from "fastify";
import { buildWebServer, type WebServerOptions } from "../../../src/web/server.js";
import type { WebPage } from "../../../src/modules/web-routes.js";

/** Every log line written (JSON text, trace level and up). */
export function capturedLog() {
  const lines: string[] = [];
  const log = pino({ level: "trace", base: undefined }, { write: (s: string) => void lines.push(s) });
  return { log, lines };
}

/** A plugin echoing what the web module gave the request. */
export const whoami: FastifyPluginAsync = async (app) => {
  app.get("/api/whoami", async (request) => ({ sessionId: request.sessionId, remote: request.socket.remoteAddress ?? null }));
};

/** buildWebServer with a captured log and the whoami plugin. */
export async function server(opts: Partial<WebServerOptions> & { mode: "addon" | "standalone"; plugins?: WebServerOptions["plugins"]; pages?: WebPage[] }) {
  const { log, lines } = capturedLog();
  const app = await buildWebServer({
    log,
    plugins: opts.plugins ?? [{ module: "test", plugin: whoami }],
    pages: opts.pages ?? [],
    ...opts,
  });
  return { app, lines };
}

/** The `name=value` of a Set-Cookie header for `name`, with its attributes, or undefined. */
export function setCookie(headers: Record<string, unknown>, name: string): string | undefined {
  const raw = headers["set-cookie"];
  const all = Array.isArray(raw) ? (raw as string[]) : typeof raw === "string" ? [raw] : [];
  return all.find((c) => c.startsWith(`${name}=`));
}

/** `name=value` part of a Set-Cookie line. */
export function cookiePair(line: string | undefined): string {
  if (!line) throw new Error("no Set-Cookie");
  return line.split(";", 1)[0]!;
}
