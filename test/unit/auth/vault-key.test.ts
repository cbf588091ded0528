import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadOrCreateVaultKey, parseVaultKey, VaultKeyError } from "../../../src/auth/vault-key.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "eb-vault-key-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("loadOrCreateVaultKey", () => {
  it("creates a 32-byte key file with mode 0600 on first start, and reuses it after", () => {
    const first = loadOrCreateVaultKey(dir);
    expect(first.source).toBe("file-created");
    expect(first.key).toHaveLength(32);
    const path = join(dir, "vault.key");
    expect(first.path).toBe(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path).equals(first.key)).toBe(true);
    expect(readdirSync(dir)).toEqual(["vault.key"]); // no temporary file left behind

    const again = loadOrCreateVaultKey(dir);
    expect(again.source).toBe("file");
    expect(again.key.equals(first.key)).toBe(true);
  });

  it("refuses a key file of the wrong size with a clear error, and leaves it alone", () => {
    const path = join(dir, "vault.key");
    writeFileSync(path, Buffer.alloc(31, 7));
    expect(() => loadOrCreateVaultKey(dir)).toThrow(VaultKeyError);
    expect(() => loadOrCreateVaultKey(dir)).toThrow(/vault\.key has 31 bytes, expected 32/);
    writeFileSync(path, "");
    expect(() => loadOrCreateVaultKey(dir)).toThrow(/has 0 bytes, expected 32/);
    expect(readFileSync(path)).toHaveLength(0);
  });

  it("uses a key given in the options (hex or base64) and creates no file", () => {
    const raw = Buffer.from([...Array(32).keys()]);
    const hex = loadOrCreateVaultKey(dir, raw.toString("hex").toUpperCase());
    expect(hex).toEqual({ key: raw, source: "options" });
    expect(loadOrCreateVaultKey(dir, ` ${raw.toString("base64")}\n`).key.equals(raw)).toBe(true);
    expect(loadOrCreateVaultKey(dir, raw.toString("base64url")).key.equals(raw)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    // An empty option means "not given": fall back to the file.
    expect(loadOrCreateVaultKey(dir, "  ").source).toBe("file-created");
  });
});

describe("parseVaultKey", () => {
  it("refuses keys that are not 32 bytes, without echoing them", () => {
    const secret = "c2VjcmV0LWtleS10aGF0LWlzLXRvby1zaG9ydA==";
    expect(() => parseVaultKey(secret)).toThrow(VaultKeyError);
    try {
      parseVaultKey(secret);
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
      expect((err as Error).message).toMatch(/64 hex characters/);
    }
    expect(() => parseVaultKey("ab".repeat(31))).toThrow(VaultKeyError); // 62 hex chars
    expect(() => parseVaultKey("zz".repeat(32))).toThrow(VaultKeyError); // not hex, not 32 bytes of base64
    expect(() => parseVaultKey("not a key!")).toThrow(VaultKeyError);
  });
});
