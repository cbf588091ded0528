/** The web module is the catalog's last module whatever the options enable (it mounts the others' routes). */
import { describe, expect, it } from "vitest";
import { defaultModules } from "../../../src/modules/catalog.js";
import type { Settings } from "../../../src/settings.js";

describe("module catalog", () => {
  it.each([
    ["no sync", {}],
    ["sync server and client", { sync: { server: { port: 8765, tokenDays: 365 }, clientServers: [{ url: "http://127.0.0.1:1", name: "other" }] } }],
  ])("puts web last (%s)", async (_what, extra) => {
    const names = (await defaultModules({ mode: "addon", ...extra } as unknown as Settings)).map((m) => m.name);
    expect(names.at(-1)).toBe("web");
    expect(names.filter((n) => n === "web")).toHaveLength(1);
    expect(names.indexOf("accounts")).toBeGreaterThanOrEqual(0);
  });
});
