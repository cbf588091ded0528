// Child process of accounts-refresh.test.ts: opens the store argv[2] with the hex vault key
// argv[3], runs ONE pass of the real refresh job with the oidc test flow against the issuer
// argv[4] (client id argv[5]), prints "rotated <accountIds>" once the pass resolved, then waits
// to be killed (SIGKILL, no clean close). Logs (pino JSON) go to stderr for the secret grep.
import { destination, pino } from "pino";
import { createOAuthStateStore } from "../../src/auth/oauth-state.js";
import { RefreshJob } from "../../src/auth/refresh-job.js";
import { TokenVault } from "../../src/auth/token-vault.js";
import type { Logger } from "../../src/log.js";
import { EventBus } from "../../src/modules/events.js";
import type { Settings } from "../../src/settings.js";
import { openStore } from "../../src/store/db.js";
import { oidcTestFlow } from "./accounts-oidc-flow.js";

const [dbPath, keyHex, issuer, clientId] = process.argv.slice(2) as [string, string, string, string];
const log = pino({ level: "trace", base: undefined }, destination({ fd: 2, sync: true })) as unknown as Logger;
const db = openStore(dbPath);
const vault = new TokenVault(db, Buffer.from(keyHex, "hex"), { log });
const events = new EventBus(log);
const deps = { db, vault, events, log, now: Date.now, settings: {} as Settings, states: createOAuthStateStore() };
const flow = oidcTestFlow(deps, { issuer, clientId });
const job = new RefreshJob({ db, vault, events, log, now: Date.now, refreshers: new Map([["ores", flow.refresher!.bind(flow)]]) });
const report = await job.runOnce();
process.stdout.write(`rotated ${report.refreshed.join(",")} retry=${report.retry.join(",")} revoked=${report.revoked.join(",")}\n`);
setInterval(() => {}, 60_000);
