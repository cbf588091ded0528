/**
 * How the accounts page presents each provider when its flow gives no `ui` (auth/flow.ts
 * `FlowUi`): label, kind (redirect / device / token) and form fields, in English and French.
 */
import type { AccountProvider } from "../../domain/types.js";
import type { AccountFlow, FlowInput, FlowUi } from "../../auth/flow.js";

const PRM: FlowInput = { name: "prm", label: { en: "PRM (14-digit meter number)", fr: "PRM (numéro de compteur à 14 chiffres)" }, type: "text" };
const TOKEN: FlowInput = { name: "token", label: { en: "Token", fr: "Jeton" }, type: "password" };
const BASE_URL: FlowInput = {
  name: "baseUrl",
  label: { en: "Gateway address (optional, self-hosted only)", fr: "Adresse de la passerelle (facultatif, auto-hébergée seulement)" },
  type: "url",
  optional: true,
};

/** Defaults per provider. */
export const PROVIDER_UI: Record<AccountProvider, FlowUi> = {
  enedis_data_connect: { label: "Enedis (Data Connect)", kind: "redirect", inputs: [] },
  conso_api: { label: "Conso API (conso.boris.sh)", kind: "token", inputs: [PRM, TOKEN, BASE_URL] },
  myelectricaldata: { label: "MyElectricalData", kind: "token", inputs: [PRM, { ...TOKEN, label: { en: "Client secret", fr: "Secret client" } }, BASE_URL] },
  cozy: {
    label: "Ecolyo (Cozy)",
    kind: "redirect",
    inputs: [{ name: "instance", label: { en: "Your Cozy address (e.g. alice.mycozy.cloud)", fr: "Adresse de votre Cozy (ex. alice.mycozy.cloud)" }, type: "url" }],
  },
  ores: { label: "Ores", kind: "redirect", inputs: [] },
  tado: { label: "tado°", kind: "device", inputs: [] },
};

/** The page's description of `flow`: its own `ui`, else the default above. */
export function flowUi(flow: AccountFlow): FlowUi {
  return flow.ui ?? PROVIDER_UI[flow.provider] ?? { label: flow.provider, kind: "redirect", inputs: [] };
}
