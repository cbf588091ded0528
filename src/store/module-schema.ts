import type { Db } from "./db.js";

/**
 * Runs the pending migrations of one module's own tables (e.g. `tado`, `sync`), in order, each in
 * its own transaction; `module_schema.version` = how many ran. Index + 1 = version, like the core
 * list in migrations.ts: never edit a released entry, append. Table names should start with the
 * module's name (`tado_samples`, `sync_clients`) so modules never collide.
 * @throws Error when the stored version is newer than `migrations` knows (a downgrade).
 */
export function migrateModule(db: Db, module: string, migrations: readonly string[]): void {
  const row = db.prepare("SELECT version FROM module_schema WHERE module = ?").get(module) as { version: number } | undefined;
  const current = row?.version ?? 0;
  if (current > migrations.length) {
    throw new Error(
      `the tables of module ${module} have schema version ${current}, newer than this add-on knows (${migrations.length}); ` +
        "update the add-on or restore a matching backup",
    );
  }
  const set = db.prepare(
    "INSERT INTO module_schema (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version",
  );
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      set.run(module, v + 1);
    })();
  }
}
