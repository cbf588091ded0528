/**
 * Runs the Linky gateway simulator standalone (Conso API + MyElectricalData legacy contracts)
 * over a bundled 30-min dataset, shifted by whole weeks so that it ends yesterday.
 *
 *   npx tsx scripts/simulator.ts [--file sceaux-household-2008-30min.csv] [--port 0] [--prm 12345678901234] [--token T]
 *
 * Prints the base URL, PRM and token, then serves until Ctrl-C.
 */
import { parseArgs } from "node:util";
import { loadHalfHourSeries, SCEAUX_2008_30MIN } from "../test/helpers/dataset.js";
import { startProviderSimulator } from "../test/helpers/provider-simulator.js";

const { values } = parseArgs({
  options: {
    file: { type: "string", default: SCEAUX_2008_30MIN },
    port: { type: "string", default: "0" },
    prm: { type: "string" },
    token: { type: "string" },
  },
});

const sim = await startProviderSimulator({
  series: loadHalfHourSeries(values.file!),
  port: Number(values.port),
  ...(values.prm ? { prm: values.prm } : {}),
  ...(values.token ? { token: values.token } : {}),
});
const served = sim.served();
const iso = (t: number) => new Date(t).toISOString();
console.log(`base URL : ${sim.baseUrl}`);
console.log(`PRM      : ${sim.prm}`);
console.log(`token    : ${sim.token}`);
console.log(`shift    : ${sim.shiftMs / (7 * 86_400_000)} weeks`);
console.log(`served   : ${served.length} half-hours, ${iso(served[0]!.start)} … ${iso(served.at(-1)!.start)} (UTC starts)`);
console.log(`try      : curl -H "Authorization: Bearer ${sim.token}" "${sim.baseUrl}/api/daily_consumption?prm=${sim.prm}&start=<YYYY-MM-DD>&end=<YYYY-MM-DD>"`);

const stop = () => void sim.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
