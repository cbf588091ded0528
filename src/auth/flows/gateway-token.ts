/**
 * Gateway tokens pasted on the add-on's page (the same as the `meters[].token` option, without
 * editing options): Conso API (conso.boris.sh, a personal JWT whose `sub` lists the PRMs it may
 * read; `providers.md` §2.1) and the MyElectricalData v2 gateway (a client secret sent as Bearer;
 * §2.3). Inputs: `prm` (14 digits), `token`, optional `baseUrl` (self-hosted gateway, simulator).
 *
 * Validation costs at most one request:
 * - Conso API: none. The token is decoded (not verified: only conso.boris.sh has the key, as
 *   bokub/linky does) and must list the PRM in `sub` and not be expired; Conso API asks for one
 *   request a day per user, so the first sync right after is the real check.
 * - MyElectricalData: one `GET /enedis/consumption/daily/<prm>` for the day before yesterday
 *   (50 such calls a day per account): `success: false` with ACCESS_DENIED, or HTTP 401/403,
 *   rejects the token; a network failure rejects nothing stored ("try again").
 *
 * The token goes to the vault (`expiresAt` = the JWT's `exp` when known), the account
 * `<provider>_<prm>` gets config `{ prms: [prm], baseUrl? }`, then `account_connected`.
 */
import { decodeJwt } from "jose";
import { DateTime } from "luxon";
import { z } from "zod";
import type { AccountProvider } from "../../domain/types.js";
import { ENERGY_BRIDGE_VERSION } from "../../providers/http.js";
import { CONSO_API_BASE_URL, MYELECTRICALDATA_BASE_URL } from "../../providers/index.js";
import { FlowError, type AccountFlow } from "../flow.js";
import { saveConnectedAccount } from "./account-store.js";
import type { FlowDeps } from "./deps.js";

/** The two gateway providers whose token is pasted. */
export type GatewayProvider = Extract<AccountProvider, "conso_api" | "myelectricaldata">;

const inputSchema = z.object({
  prm: z
    .string({ required_error: "Enter the 14-digit PRM (usage point number) of your Linky meter." })
    .trim()
    .regex(/^[0-9]{14}$/, "The PRM is the 14-digit usage point number shown on the Linky meter and in your Enedis account."),
  token: z
    .string({ required_error: "Paste the token the gateway gave you." })
    .trim()
    .min(10, "Paste the whole token the gateway gave you.")
    .max(4096, "This is too long to be a gateway token."),
  baseUrl: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v.replace(/\/+$/, "") : undefined))
    .refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), "The address must start with http:// or https://."),
});

/** Parsed, validated page input; throws FlowError("invalid_input", first problem in plain words). */
export function parseGatewayInput(input: Record<string, string>): z.infer<typeof inputSchema> {
  const r = inputSchema.safeParse({ ...input, baseUrl: input.baseUrl || undefined });
  if (!r.success) throw new FlowError("invalid_input", r.error.issues[0]?.message ?? "The form is incomplete.");
  return r.data;
}

/** Conso API: the JWT must list `prm` in `sub` and not be expired. Returns its `exp` (epoch ms) if any. */
export function checkConsoToken(token: string, prm: string, now: number): number | undefined {
  let claims: ReturnType<typeof decodeJwt>;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new FlowError("invalid_token", "This does not look like a Conso API token: copy the whole token from conso.boris.sh/token.");
  }
  const sub = claims.sub as unknown;
  const prms = Array.isArray(sub) ? sub.map(String) : typeof sub === "string" ? [sub] : [];
  if (!prms.includes(prm)) {
    throw new FlowError("wrong_prm", `This Conso API token does not give access to the meter ${prm}. Check the PRM, or get a token for this meter.`);
  }
  const exp = typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
  if (exp !== undefined && exp <= now) {
    throw new FlowError("token_expired", "This Conso API token has expired: get a new one at conso.boris.sh.");
  }
  return exp;
}

async function checkMedToken(deps: FlowDeps, baseUrl: string, prm: string, token: string): Promise<void> {
  const day = DateTime.fromMillis(deps.now(), { zone: "Europe/Paris" }).startOf("day");
  const url = new URL(`${baseUrl}/enedis/consumption/daily/${prm}`);
  url.searchParams.set("start", day.minus({ days: 2 }).toISODate()!);
  url.searchParams.set("end", day.minus({ days: 1 }).toISODate()!);
  let res: Response;
  try {
    res = await (deps.fetch ?? fetch)(url, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/json",
        "x-med-format": "2026",
        "user-agent": `energy-bridge/${ENERGY_BRIDGE_VERSION}`,
      },
      signal: AbortSignal.timeout(20_000),
    });
  } catch {
    throw new FlowError("provider_unreachable", "MyElectricalData could not be reached to check the token. Try again in a few minutes.");
  }
  const body = (await res.json().catch(() => null)) as { success?: boolean; error?: { code?: string } | null } | null;
  const code = body?.error?.code;
  if (res.status === 401 || res.status === 403 || code === "ACCESS_DENIED" || code === "UNAUTHORIZED") {
    throw new FlowError("invalid_token", `MyElectricalData refused this token for the meter ${prm}. Check the PRM and copy the secret again from your MyElectricalData account.`);
  }
  if (res.status >= 500 || code === "RATE_LIMIT_EXCEEDED") {
    throw new FlowError("provider_unreachable", "MyElectricalData cannot check the token right now. Try again later.");
  }
  // success, NO_DATA, a date error...: the gateway accepted the token for this PRM.
}

function gatewayFlow(deps: FlowDeps, provider: GatewayProvider): AccountFlow {
  const log = deps.log.child({ flow: provider });
  return {
    provider,
    async begin(input) {
      const { prm, token, baseUrl } = parseGatewayInput(input);
      let expiresAt: number | undefined;
      if (provider === "conso_api") expiresAt = checkConsoToken(token, prm, deps.now());
      else await checkMedToken(deps, baseUrl ?? MYELECTRICALDATA_BASE_URL, prm, token);
      const account = saveConnectedAccount(
        deps,
        {
          id: `${provider}_${prm}`,
          provider,
          label: `Linky ${prm}`,
          config: { prms: [prm], ...(baseUrl ? { baseUrl } : {}) },
        },
        { accessToken: token, ...(expiresAt !== undefined ? { expiresAt } : {}) },
      );
      log.info({ account: account.id }, "gateway token accepted");
      return { kind: "done", account };
    },
    async disconnect(account) {
      // Gateway tokens cannot be revoked by the client: forget it (revoke it on the gateway's site).
      deps.vault.remove(account.id);
    },
  };
}

/** The Conso API and MyElectricalData token flows. Default base URLs: {@link CONSO_API_BASE_URL}, {@link MYELECTRICALDATA_BASE_URL}. */
export function createGatewayTokenFlows(deps: FlowDeps): AccountFlow[] {
  return [gatewayFlow(deps, "conso_api"), gatewayFlow(deps, "myelectricaldata")];
}
