/**
 * Relative URLs under any prefix. Ingress serves the app at `/api/hassio_ingress/<token>/` and
 * strips the prefix, so the app sees `/<path>`; absolute links would hit Home Assistant itself
 * (reference/addon-packaging.md §7). Every link, asset, form and redirect is therefore relative to
 * the app's root, and pages set `<base href>` to that root.
 */

/** `X-Ingress-Path` values we accept (`/api/hassio_ingress/<token>`, no trailing slash): plain path segments. */
const SAFE_PREFIX = /^(?:\/[A-Za-z0-9._~-]+)+$/;

/**
 * The ingress prefix from the `X-Ingress-Path` header (e.g. `/api/hassio_ingress/abc`), or null
 * when absent or not a plain path (never reflected unchecked into HTML or a cookie).
 */
export function ingressPrefix(header: string | string[] | undefined): string | null {
  const v = Array.isArray(header) ? header[0] : header;
  return v && SAFE_PREFIX.test(v) ? v : null;
}

/**
 * The relative path from the request's URL to the app's root: `./` for `/` and `/accounts`,
 * `../` for `/callback/x`, `../../` for `/a/b/c`. `url` is the request URL as the app sees it
 * (query allowed).
 */
export function relativeRoot(url: string): string {
  const path = url.split(/[?#]/, 1)[0] ?? "/";
  const depth = Math.max(0, path.split("/").length - 2);
  return depth === 0 ? "./" : "../".repeat(depth);
}

/**
 * The `<base href>` of a page: the ingress prefix + `/` when Home Assistant's ingress gave one,
 * else the relative root (works behind any other prefixing proxy too).
 */
export function baseHref(url: string, ingressHeader: string | string[] | undefined): string {
  const prefix = ingressPrefix(ingressHeader);
  return prefix ? `${prefix}/` : relativeRoot(url);
}

/** The session cookie's `Path`: the ingress prefix + `/` under ingress, else `/`. */
export function cookiePath(ingressHeader: string | string[] | undefined): string {
  const prefix = ingressPrefix(ingressHeader);
  return prefix ? `${prefix}/` : "/";
}
