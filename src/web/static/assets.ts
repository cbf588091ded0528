/**
 * The static assets (static/app.css, static/accounts.js). They live in TypeScript modules, so
 * `tsc -p tsconfig.build.json` puts them into dist/ with the code: no copy step, and the same
 * bytes whether the service runs from src/ (tsx, vitest) or dist/ (the image).
 */
import { createHash } from "node:crypto";
import { accountsClient } from "./accounts-client.js";
import { APP_CSS } from "./styles.js";

/**
 * The page script: the function's source, called once. The prelude defines `__name`, which
 * esbuild (tsx, vitest) may insert into function sources when it keeps names.
 */
const ACCOUNTS_JS = `"use strict";\nconst __name = (f) => f;\n(${accountsClient.toString()})();\n`;

/** One static asset. */
export interface Asset {
  contentType: string;
  body: string;
}

/** Assets by their path under `static/`. */
export const ASSETS: Readonly<Record<string, Asset>> = {
  "app.css": { contentType: "text/css; charset=utf-8", body: APP_CSS },
  "accounts.js": { contentType: "text/javascript; charset=utf-8", body: ACCOUNTS_JS },
};

/** Short content hash of every asset, appended as `?v=` so a new release is never served stale. */
export const ASSET_VERSION = createHash("sha256")
  .update(Object.values(ASSETS).map((a) => a.body).join("\0"))
  .digest("hex")
  .slice(0, 10);
