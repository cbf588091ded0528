/**
 * A tiny stand-in for Home Assistant's ingress chain (Core `hassio/ingress.py` → Supervisor
 * `api/ingress.py`, reference/addon-packaging.md §7) on 127.0.0.1: the browser asks
 * `/api/hassio_ingress/<token>/<path>`, the app receives `/<path>` with
 * `X-Ingress-Path: /api/hassio_ingress/<token>` (no trailing slash), `X-Forwarded-For/Host/Proto`,
 * no `Accept-Encoding`; responses (redirects included, `Location` untouched) are passed through.
 * Anything outside the prefix is answered by the "Home Assistant" itself: a 404 page, so an
 * absolute link in the app (`/api/...`, `/static/...`) fails visibly. `/` is an HA-like frame
 * page embedding the add-on in an iframe, as the sidebar panel does.
 * With `ingressSession`, the frame page sets the `ingress_session` cookie the way Home
 * Assistant's frontend does (`path=/api/hassio_ingress/;SameSite=Strict`, frontend
 * src/data/hassio/ingress.ts) and the proxy refuses any prefixed request without it with
 * `401: Unauthorized`, as the Supervisor does (api/ingress.py) — so a cross-site navigation into
 * the add-on (a provider's page sending the browser back) is refused, as in real use.
 */
import { randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A running proxy. */
export interface IngressProxy {
  /** e.g. `http://127.0.0.1:41234/api/hassio_ingress/Xyz…/` (trailing slash, as HA's ingress_url). */
  url: string;
  /** `/api/hassio_ingress/<token>` (the X-Ingress-Path value). */
  prefix: string;
  origin: string;
  /** Paths the proxy answered itself with 404 (outside the prefix). */
  misses: string[];
  /** Paths refused with 401 for want of the ingress_session cookie (`ingressSession` only). */
  refused: string[];
  close(): Promise<void>;
}

/** Options of {@link startIngressProxy}. */
export interface IngressProxyOptions {
  /** Host name in the proxy's URLs (default 127.0.0.1). `localhost` makes the page another site than a provider on 127.0.0.1. */
  host?: string;
  /** Emulate Home Assistant's ingress session cookie (see the file comment). */
  ingressSession?: boolean;
}

/**
 * Starts the proxy in front of `upstream` (e.g. `http://127.0.0.1:8099`, or a function giving it
 * once the app listens: the proxy's own URL may be needed first, e.g. for a redirect_uri).
 */
export async function startIngressProxy(upstream: string | (() => string), opts: IngressProxyOptions = {}): Promise<IngressProxy> {
  const host = opts.host ?? "127.0.0.1";
  const token = randomBytes(24).toString("base64url");
  const prefix = `/api/hassio_ingress/${token}`;
  const misses: string[] = [];
  const refused: string[] = [];
  const session = randomBytes(16).toString("hex");
  const server: Server = createServer((req: IncomingMessage, res) => {
    const url = req.url ?? "/";
    if (url === "/") {
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        ...(opts.ingressSession ? { "set-cookie": `ingress_session=${session}; Path=/api/hassio_ingress/; SameSite=Strict` } : {}),
      });
      res.end(`<!doctype html><title>Home Assistant</title><link rel="icon" href="data:,"><iframe id="panel" src="${prefix}/" style="width:100%;height:90vh;border:0"></iframe>`);
      return;
    }
    if (url === "/favicon.ico") {
      res.writeHead(204); // Home Assistant has one; pages without an icon ask for it
      res.end();
      return;
    }
    if (!url.startsWith(`${prefix}/`) && url !== prefix) {
      misses.push(url.split("?")[0]!);
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("404: Not Found (Home Assistant)");
      return;
    }
    if (opts.ingressSession && !new RegExp(`(?:^|;\\s*)ingress_session=${session}(?:;|$)`).test(req.headers.cookie ?? "")) {
      refused.push(url.split("?")[0]!);
      res.writeHead(401, { "content-type": "text/plain; charset=utf-8" });
      res.end("401: Unauthorized");
      return;
    }
    const up = new URL(typeof upstream === "string" ? upstream : upstream());
    const headers = { ...req.headers };
    delete headers["accept-encoding"];
    headers["x-ingress-path"] = prefix;
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
    headers["x-forwarded-host"] = req.headers.host ?? "";
    headers["x-forwarded-proto"] = "http";
    headers.host = up.host;
    const upstreamReq = httpRequest(
      { host: up.hostname, port: up.port, method: req.method, path: url.slice(prefix.length) || "/", headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    upstreamReq.on("error", (err) => {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`502: ${err.message}`);
    });
    req.pipe(upstreamReq);
  });
  // `localhost` may resolve to ::1 or 127.0.0.1: a dual-stack listener takes both.
  await new Promise<void>((resolve) => server.listen(0, host === "localhost" ? "::" : host, resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host}:${port}`;
  return {
    url: `${origin}${prefix}/`,
    prefix,
    origin,
    misses,
    refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
