import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";

/** Length of the token vault key: AES-256 → 32 bytes. */
export const VAULT_KEY_BYTES = 32;

/** File name of the generated key inside the data directory. */
export const VAULT_KEY_FILE = "vault.key";

/** Raised when a vault key (file or option) is unusable. The message never contains key material. */
export class VaultKeyError extends Error {
  override readonly name = "VaultKeyError";
}

/** The key in use and where it came from (`file-created` = generated on this start). */
export interface VaultKey {
  /** 32 raw bytes. */
  readonly key: Buffer;
  readonly source: "options" | "file" | "file-created";
  /** The key file's path (`source` file / file-created), else undefined. */
  readonly path?: string;
}

/**
 * Parses a key given in the options: 64 hex characters, or base64 / base64url of 32 bytes
 * (surrounding whitespace ignored). Throws `VaultKeyError` (without echoing the value) otherwise.
 */
export function parseVaultKey(text: string): Buffer {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, "hex");
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(s) || /^[A-Za-z0-9_-]+={0,2}$/.test(s)) {
    const bytes = Buffer.from(s, s.includes("-") || s.includes("_") ? "base64url" : "base64");
    if (bytes.length === VAULT_KEY_BYTES) return bytes;
  }
  throw new VaultKeyError(
    `the configured vault key is not a 32-byte key: give 64 hex characters (e.g. \`openssl rand -hex 32\`) ` +
      `or base64 of 32 bytes (\`openssl rand -base64 32\`); got ${s.length} characters`,
  );
}

/**
 * The token vault key: `configured` (the add-on option, see `parseVaultKey`) when given, else the
 * 32 raw bytes of `<dataDir>/vault.key`, generated on first start with mode 0600.
 *
 * Creation is atomic: the random key is written and fsynced into a temporary file opened with
 * `wx` (mode 0600), then hard-linked to `vault.key` (link never overwrites), so the key file
 * appears complete or not at all, and two processes starting at once end up with the same key
 * (the loser reads the winner's file). An existing file of any size other than 32 bytes is refused
 * with a `VaultKeyError` (the tokens encrypted with the lost key cannot be recovered; the user
 * restores the file from a backup or deletes it and connects the accounts again). The data
 * directory must exist. Other file-system errors are thrown as they are.
 */
export function loadOrCreateVaultKey(dataDir: string, configured?: string): VaultKey {
  if (configured !== undefined && configured.trim() !== "") return { key: parseVaultKey(configured), source: "options" };
  const path = join(dataDir, VAULT_KEY_FILE);
  const existing = readKeyFile(path);
  if (existing) return { key: existing, source: "file", path };
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const key = randomBytes(VAULT_KEY_BYTES);
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    // Another process created it between our read and our link: use theirs.
    const theirs = readKeyFile(path);
    if (theirs) return { key: theirs, source: "file", path };
    throw err;
  } finally {
    unlinkSync(tmp);
  }
  syncDir(dataDir);
  return { key, source: "file-created", path };
}

/** The key in `path`, undefined when the file does not exist; throws on a wrong size. */
function readKeyFile(path: string): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  if (bytes.length !== VAULT_KEY_BYTES) {
    throw new VaultKeyError(
      `the vault key file ${path} has ${bytes.length} bytes, expected ${VAULT_KEY_BYTES}: it is damaged or not a vault key. ` +
        "Restore it from a backup, or delete it (a new key is generated and every account must be connected again)",
    );
  }
  return bytes;
}

/** Makes the new directory entry durable (best effort: some file systems refuse to fsync a directory). */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // not fatal: the key file's content is already synced
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
