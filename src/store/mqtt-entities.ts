import type { Db } from "./db.js";

/**
 * The SQLite memory of MQTT discovery entities (shape of `DeletedEntities` in
 * homeassistant/entities/publisher.ts): which unique ids were ever published, and which the user
 * deleted in Home Assistant — those are never published again, across restarts.
 */
export function mqttEntityMemory(db: Db, now: () => number = Date.now) {
  const get = db.prepare(`SELECT published_at AS publishedAt, deleted_at AS deletedAt FROM mqtt_entities WHERE unique_id = ?`);
  const row = (id: string) => get.get(id) as { publishedAt: number | null; deletedAt: number | null } | undefined;
  const published = db.prepare(
    `INSERT INTO mqtt_entities (unique_id, published_at) VALUES (?, ?)
     ON CONFLICT(unique_id) DO UPDATE SET published_at = COALESCE(published_at, excluded.published_at)`,
  );
  const deleted = db.prepare(
    `INSERT INTO mqtt_entities (unique_id, deleted_at) VALUES (?, ?)
     ON CONFLICT(unique_id) DO UPDATE SET deleted_at = excluded.deleted_at`,
  );
  const forget = db.prepare(`DELETE FROM mqtt_entities WHERE unique_id = ?`);
  return {
    isDeleted: (id: string) => Boolean(row(id)?.deletedAt),
    markDeleted: (id: string) => void deleted.run(id, now()),
    wasPublished: (id: string) => Boolean(row(id)?.publishedAt),
    markPublished: (id: string) => void published.run(id, now()),
    forget: (id: string) => void forget.run(id),
  };
}
