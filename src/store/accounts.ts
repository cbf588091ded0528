import type { Account, AccountProvider, AccountStatus } from "../domain/types.js";
import type { Db } from "./db.js";

interface AccountRow {
  id: string;
  provider: string;
  label: string;
  status: string;
  detail: string | null;
  config: string;
  created_at: number;
  updated_at: number;
}

function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    provider: r.provider as AccountProvider,
    label: r.label,
    status: r.status as AccountStatus,
    detail: r.detail,
    config: JSON.parse(r.config) as Record<string, unknown>,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Creates or replaces an account (keeps `created_at` of an existing one). `now`: epoch ms. */
export function upsertAccount(
  db: Db,
  a: Pick<Account, "id" | "provider" | "label" | "status" | "detail" | "config">,
  now: number,
): Account {
  db.prepare(
    `INSERT INTO accounts (id, provider, label, status, detail, config, created_at, updated_at)
     VALUES (@id, @provider, @label, @status, @detail, @config, @now, @now)
     ON CONFLICT(id) DO UPDATE SET provider = excluded.provider, label = excluded.label, status = excluded.status,
       detail = excluded.detail, config = excluded.config, updated_at = excluded.updated_at`,
  ).run({ ...a, config: JSON.stringify(a.config), now });
  return getAccount(db, a.id)!;
}

/** One account, or undefined. */
export function getAccount(db: Db, id: string): Account | undefined {
  const r = db.prepare("SELECT * FROM accounts WHERE id = ?").get(id) as AccountRow | undefined;
  return r ? toAccount(r) : undefined;
}

/** Every account (of one provider when given), oldest first. */
export function listAccounts(db: Db, provider?: AccountProvider): Account[] {
  const rows = (
    provider
      ? db.prepare("SELECT * FROM accounts WHERE provider = ? ORDER BY created_at, id").all(provider)
      : db.prepare("SELECT * FROM accounts ORDER BY created_at, id").all()
  ) as AccountRow[];
  return rows.map(toAccount);
}

/** Sets status and detail (null when connected). Returns false when the account does not exist. */
export function setAccountStatus(db: Db, id: string, status: AccountStatus, detail: string | null, now: number): boolean {
  return db.prepare("UPDATE accounts SET status = ?, detail = ?, updated_at = ? WHERE id = ?").run(status, detail, now, id).changes > 0;
}

/** Deletes an account row (its tokens are removed through the vault). Returns whether it existed. */
export function deleteAccount(db: Db, id: string): boolean {
  return db.prepare("DELETE FROM accounts WHERE id = ?").run(id).changes > 0;
}
