/**
 * Runs the Linky gateway simulator standalone (Enedis "mesure synchrone v2" through the Conso API,
 * the MyElectricalData v2 gateway and Data Connect direct, plus the legacy v5 MyElectricalData
 * routes) over a bundled 30-min dataset, shifted by whole weeks so that it ends yesterday.
 *
 *   npx tsx scripts/simulator.ts [--file sceaux-household-2008-30min.csv] [--three-years] [--port 0]
 *                                [--prm 12345678901234] [--token T] [--conso-v5]
 *
 * `--three-years` serves the real 2008 year repeated with 52-week shifts (3 years + a month of history);
 * `--conso-v5` simulates an older self-hosted Conso API (v5 type names and bodies).
 * Prints the base URL, PRM, token and example requests, then serves until Ctrl-C.
 */
import { parseArgs } from "node:util";
import { loadHalfHourSeries, loadThreeYearSeries, SCEAUX_2008_30MIN } from "../test/helpers/dataset.js";
import { startProviderSimulator } from "../test/helpers/provider-simulator.js";

const { values } = parseArgs({
  options: {
    file: { type: "string", default: SCEAUX_2008_30MIN },
    "three-years": { type: "boolean", default: false },
    port: { type: "string", default: "0" },
    prm: { type: "string" },
    token: { type: "string" },
    "conso-v5": { type: "boolean", default: false },
  },
});

const sim = await startProviderSimulator({
  series: values["three-years"] ? loadThreeYearSeries(values.file!) : loadHalfHourSeries(values.file!),
  port: Number(values.port),
  ...(values.prm ? { prm: values.prm } : {}),
  ...(values.token ? { token: values.token } : {}),
  ...(values["conso-v5"] ? { consoApi: "v5" as const } : {}),
});
const served = sim.served();
const iso = (t: number) => new Date(t).toISOString();
const auth = `-H "Authorization: Bearer ${sim.token}"`;
console.log(`base URL : ${sim.baseUrl}`);
console.log(`PRM      : ${sim.prm}`);
console.log(`token    : ${sim.token}`);
console.log(`client   : ${sim.clientId} / ${sim.clientSecret} (Data Connect direct, POST /oauth2/v3/token)`);
console.log(`shift    : ${sim.shiftMs / (7 * 86_400_000)} weeks`);
console.log(`served   : ${served.length} half-hours, ${iso(served[0]!.start)} … ${iso(served.at(-1)!.start)} (UTC starts)`);
if (values["conso-v5"]) {
  console.log(`try      : curl ${auth} "${sim.baseUrl}/api/consommation_quotidienne?pointId=${sim.prm}&dateDebut=<YYYY-MM-DD>&dateFin=<YYYY-MM-DD>"`);
} else {
  console.log(`Conso API: curl ${auth} "${sim.baseUrl}/api/courbe_de_charge_consommation?pointId=${sim.prm}&dateDebut=<YYYY-MM-DD>&dateFin=<YYYY-MM-DD>"`);
}
console.log(`MED v2   : curl ${auth} -H "X-MED-Format: 2026" "${sim.baseUrl}/api/enedis/consumption/daily/${sim.prm}?start=<YYYY-MM-DD>&end=<YYYY-MM-DD>"`);

const stop = () => void sim.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
