/**
 * Every account connection flow the add-on offers, built from shared dependencies. Each flow's
 * helper adds ONE line to the list in {@link createFlows}; the accounts module
 * (src/modules/accounts/) serves them through its JSON API and runs their refreshers.
 */
import type { AccountFlow } from "../flow.js";
import type { FlowDeps } from "./deps.js";
import { createEnedisConsentFlow } from "./enedis-consent.js";
import { createGatewayTokenFlows } from "./gateway-token.js";
import { createTadoFlow } from "./tado.js";
import { createCozyFlow } from "./cozy.js";
import { createOresFlow } from "./ores.js";

export type { FlowDeps } from "./deps.js";

/** Every flow, in the order the page lists them. Add yours with one line. */
export function createFlows(deps: FlowDeps): AccountFlow[] {
  return [
    createEnedisConsentFlow(deps),
    ...createGatewayTokenFlows(deps),
    createTadoFlow(deps),
    createCozyFlow(deps),
    createOresFlow(deps),
  ];
}
