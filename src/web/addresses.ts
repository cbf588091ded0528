/**
 * Who may talk to the web server in add-on mode: only the Supervisor's ingress proxy, whose
 * address on the `hassio` network is 172.30.32.2 (`172.30.32.0/23`, Supervisor `const.py`;
 * developers docs "presentation.md", Ingress). Since Supervisor 2026.04 that network is dual-stack,
 * so on a `::` listener the same peer shows as the IPv4-mapped `::ffff:172.30.32.2`
 * (reference/platform-2026.md §2). Checked on the socket's address, never on a header.
 */

/** The Supervisor's ingress proxy address (the only peer allowed in add-on mode). */
export const INGRESS_ADDRESSES: readonly string[] = ["172.30.32.2"];

/** The ingress port of config.yaml: Supervisor's default 8099 (so config.yaml does not write it). */
export const INGRESS_PORT = 8099;

const MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * A socket address in a comparable form: an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) becomes
 * `a.b.c.d`; IPv6 is lower-cased; `undefined` (socket already gone) becomes "".
 */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return "";
  const m = MAPPED.exec(address);
  return m ? m[1]! : address.toLowerCase();
}

/** True when `address` (as the socket reports it) is one of `allowed` (compared normalized). */
export function isAllowedAddress(address: string | undefined, allowed: readonly string[]): boolean {
  const a = normalizeAddress(address);
  return a !== "" && allowed.some((x) => normalizeAddress(x) === a);
}
