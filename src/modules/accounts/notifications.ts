/**
 * Home Assistant persistent notifications for accounts that stopped working (an add-on cannot
 * create Repairs issues): `POST /api/services/persistent_notification/create` with one
 * `notification_id` per account (a new message replaces the old one), and `…/dismiss` once the
 * account works again. Source: home-assistant.io integrations/persistent_notification.
 *
 * The link: as an add-on, the ingress page `/hassio/ingress/<slug>` (the full slug comes from the
 * Supervisor, `GET http://supervisor/addons/self/info`); standalone, the `public_url` option.
 */
import type { HaRest } from "../../homeassistant/rest.js";
import type { Logger } from "../../log.js";
import type { Settings } from "../../settings.js";

/** `energy_bridge_account_<id>`: the notification id of an account. */
export function notificationId(accountId: string): string {
  return `energy_bridge_account_${accountId.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`;
}

/**
 * The link to the add-on's accounts page: `/hassio/ingress/<slug>` as an add-on (relative to HA's
 * frontend, as notifications render Markdown links in HA), `<public_url>/accounts` standalone, or
 * null when standalone without `public_url`. `fetchImpl`/`supervisorUrl` for tests.
 */
export async function addonPageLink(
  settings: Settings,
  opts: { fetchImpl?: typeof fetch; supervisorUrl?: string; log?: Logger } = {},
): Promise<string | null> {
  if (settings.mode === "standalone") return settings.publicUrl ? new URL("accounts", settings.publicUrl.replace(/\/?$/, "/")).href : null;
  let slug = "energy_bridge";
  try {
    const res = await (opts.fetchImpl ?? fetch)(`${opts.supervisorUrl ?? "http://supervisor"}/addons/self/info`, {
      headers: { authorization: `Bearer ${settings.homeAssistant.token}` },
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await res.json()) as { data?: { slug?: unknown } };
    if (res.ok && typeof body.data?.slug === "string" && /^[a-z0-9_]+$/.test(body.data.slug)) slug = body.data.slug;
  } catch (err) {
    opts.log?.debug(`cannot read the add-on slug from the Supervisor (${(err as Error).message}); using ${slug}`);
  }
  return `/hassio/ingress/${slug}`;
}

async function callService(rest: HaRest, service: "create" | "dismiss", data: Record<string, unknown>, fetchImpl: typeof fetch): Promise<void> {
  const url = `${rest.apiUrl.replace(/\/$/, "")}/services/persistent_notification/${service}`;
  const res = await fetchImpl(url, {
    method: "POST",
    headers: { authorization: `Bearer ${rest.token}`, "content-type": "application/json" },
    body: JSON.stringify(data),
    signal: AbortSignal.timeout(15_000),
  });
  if (!res.ok) throw new Error(`Home Assistant answered HTTP ${res.status} to persistent_notification.${service}`);
}

/**
 * Creates (or replaces) the account's notification: `message` plain words, plus the link when
 * known. `status` words the advice: `revoked` (default) asks to connect again; `error` (bad data,
 * a provider answer the add-on could not use) says it keeps retrying — reconnecting would not help.
 */
export async function notifyAccountProblem(
  rest: HaRest,
  a: { id: string; label: string; message: string; link: string | null; status?: "revoked" | "error" },
  fetchImpl: typeof fetch = fetch,
): Promise<void> {
  const advice = a.status === "error" ? "for details; the add-on keeps retrying by itself." : "to connect it again.";
  const link = a.link ? `\n\n[Open Energy Bridge's accounts page](${a.link}) ${advice}` : `\n\nOpen Energy Bridge's page ${advice}`;
  await callService(rest, "create", { notification_id: notificationId(a.id), title: `Energy Bridge: ${a.label} needs attention`, message: `${a.message}${link}` }, fetchImpl);
}

/** Dismisses the account's notification (no error when there is none). */
export async function dismissAccountProblem(rest: HaRest, accountId: string, fetchImpl: typeof fetch = fetch): Promise<void> {
  await callService(rest, "dismiss", { notification_id: notificationId(accountId) }, fetchImpl);
}
