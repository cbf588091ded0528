/**
 * Schema migrations, applied in order; index + 1 = `PRAGMA user_version` after it ran.
 * Never edit a released migration: append a new one.
 *
 * Units: instants are UTC epoch ms; reading values are in the meter's unit (Wh for electricity);
 * `statistic_rows` mirror what was written to Home Assistant, in Wh (HA receives kWh); since
 * migration 5 they are keyed by `statistic_ids.id`. Since migration 8 `readings` are keyed by
 * `meter_keys.key` (`store/readings.ts` is the only code that reads or writes them).
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meters (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit TEXT NOT NULL,
    timezone TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE readings (
    meter_id TEXT NOT NULL REFERENCES meters(id) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    value REAL NOT NULL CHECK (value >= 0),
    quality TEXT,
    fetched_at INTEGER NOT NULL,
    PRIMARY KEY (meter_id, start, duration_ms)
  ) WITHOUT ROWID;

  CREATE TABLE dirty_hours (
    meter_id TEXT NOT NULL REFERENCES meters(id) ON DELETE CASCADE,
    hour INTEGER NOT NULL,
    PRIMARY KEY (meter_id, hour)
  ) WITHOUT ROWID;

  -- Which local days were fetched, per resolution, and whether the provider had them complete.
  CREATE TABLE day_coverage (
    meter_id TEXT NOT NULL REFERENCES meters(id) ON DELETE CASCADE,
    resolution TEXT NOT NULL,
    day TEXT NOT NULL,
    complete INTEGER NOT NULL,
    fetched_at INTEGER NOT NULL,
    PRIMARY KEY (meter_id, resolution, day)
  ) WITHOUT ROWID;

  CREATE TABLE sync_state (
    meter_id TEXT PRIMARY KEY REFERENCES meters(id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT,
    last_attempt_at INTEGER,
    last_success_at INTEGER,
    daily_history_start TEXT,
    load_curve_history_start TEXT
  );

  CREATE TABLE request_log (
    provider_key TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (provider_key, day)
  ) WITHOUT ROWID;

  CREATE TABLE statistic_rows (
    statistic_id TEXT NOT NULL,
    start INTEGER NOT NULL,
    state_wh REAL NOT NULL,
    sum_wh REAL NOT NULL,
    PRIMARY KEY (statistic_id, start)
  ) WITHOUT ROWID;

  CREATE TABLE anomalies (
    meter_id TEXT NOT NULL REFERENCES meters(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    window_start TEXT NOT NULL,
    value REAL NOT NULL,
    average_7d REAL NOT NULL,
    variance_percent REAL NOT NULL,
    severity TEXT NOT NULL,
    detected_at INTEGER NOT NULL,
    notified_at INTEGER,
    PRIMARY KEY (meter_id, day)
  ) WITHOUT ROWID;

  CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: the usage point and flow of a meter series (a production series has its own meter row,
  // `<prm>_production`), and the daily peak power of a usage point (VA, with the instant of the peak).
  `
  ALTER TABLE meters ADD COLUMN usage_point TEXT;
  ALTER TABLE meters ADD COLUMN flow TEXT NOT NULL DEFAULT 'consumption';

  CREATE TABLE max_power (
    meter_id TEXT NOT NULL REFERENCES meters(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    value_va REAL NOT NULL CHECK (value_va >= 0),
    peak_at INTEGER NOT NULL,
    fetched_at INTEGER NOT NULL,
    PRIMARY KEY (meter_id, day)
  ) WITHOUT ROWID;
  `,
  // 3: MQTT discovery entities ever published, and the ones the user deleted in Home Assistant
  // (never re-published: see homeassistant/entities/publisher.ts).
  `
  CREATE TABLE mqtt_entities (
    unique_id TEXT PRIMARY KEY,
    published_at INTEGER,
    deleted_at INTEGER
  ) WITHOUT ROWID;
  `,
  // 4: one dirty span per meter (first and last dirty UTC hour) instead of one row per dirty hour:
  // the statistics writer only ever needs the span (it rebuilds from the first dirty local day to
  // the end of data and diffs against Home Assistant), so a wider span than the true dirty set is
  // harmless, and a backfill no longer inserts (then deletes) a row per hour. Existing dirty hours
  // are carried over as their span.
  `
  CREATE TABLE dirty_spans (
    meter_id TEXT PRIMARY KEY REFERENCES meters(id) ON DELETE CASCADE,
    first_hour INTEGER NOT NULL,
    last_hour INTEGER NOT NULL,
    CHECK (first_hour <= last_hour)
  ) WITHOUT ROWID;
  INSERT INTO dirty_spans (meter_id, first_hour, last_hour)
    SELECT meter_id, MIN(hour), MAX(hour) FROM dirty_hours GROUP BY meter_id;
  DROP TABLE dirty_hours;
  `,
  // 5: the mirror of written rows keyed by a small integer per statistic instead of the statistic
  // id text in every row (a 3-year backfill mirrors 26k rows: ~2.5× fewer pages to write).
  // `statistic_rows` keeps its name and columns except `statistic_id` → `statistic` (statistic_ids.id).
  `
  CREATE TABLE statistic_ids (
    id INTEGER PRIMARY KEY,
    statistic_id TEXT NOT NULL UNIQUE
  );
  INSERT INTO statistic_ids (statistic_id) SELECT DISTINCT statistic_id FROM statistic_rows ORDER BY statistic_id;
  CREATE TABLE statistic_rows_v5 (
    statistic INTEGER NOT NULL,
    start INTEGER NOT NULL,
    state_wh REAL NOT NULL,
    sum_wh REAL NOT NULL,
    PRIMARY KEY (statistic, start)
  ) WITHOUT ROWID;
  INSERT INTO statistic_rows_v5 (statistic, start, state_wh, sum_wh)
    SELECT i.id, r.start, r.state_wh, r.sum_wh FROM statistic_rows r JOIN statistic_ids i ON i.statistic_id = r.statistic_id;
  DROP TABLE statistic_rows;
  ALTER TABLE statistic_rows_v5 RENAME TO statistic_rows;
  `,
  // 6: the token vault (auth/token-vault.ts): per account, the AES-256-GCM ciphertext of its token
  // set (access + refresh token, scope, extras), its 12-byte IV and 16-byte tag; never plaintext.
  // `expires_at` / `refresh_expires_at` (UTC epoch ms, NULL = unknown) are query copies of values
  // also inside the ciphertext, for the refresh job.
  `
  CREATE TABLE account_tokens (
    account_id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    iv BLOB NOT NULL,
    tag BLOB NOT NULL,
    expires_at INTEGER,
    refresh_expires_at INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX account_tokens_expires_at ON account_tokens (expires_at) WHERE expires_at IS NOT NULL;
  `,
  `
  -- Connected accounts (the accounts issue): one row per account, whatever its provider. Secrets
  -- are never here: they live encrypted in account_tokens (same id). config is public JSON
  -- (Cozy instance URL, PRMs of a consent, Tado home id…).
  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    label TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT,
    config TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  -- Schema versions of the tables a module owns (store/module-schema.ts): each module migrates
  -- its own tables, so modules never share one migration list.
  CREATE TABLE module_schema (
    module TEXT PRIMARY KEY,
    version INTEGER NOT NULL
  );
  `,
  // 8: readings keyed by a small integer per meter (meter_keys) instead of the meter id text in
  // every row, and without fetched_at (never read: day_coverage keeps when each day was fetched).
  // A reading row shrinks from ~49 to ~30 bytes: a 3-year backfill writes, commits and reads
  // back ~40 % fewer pages. Deleting a meter still deletes its readings (meters → meter_keys →
  // readings, both ON DELETE CASCADE).
  `
  CREATE TABLE meter_keys (
    key INTEGER PRIMARY KEY,
    meter_id TEXT NOT NULL UNIQUE REFERENCES meters(id) ON DELETE CASCADE
  );
  INSERT INTO meter_keys (meter_id) SELECT id FROM meters ORDER BY id;
  CREATE TABLE readings_v8 (
    meter INTEGER NOT NULL REFERENCES meter_keys(key) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    value REAL NOT NULL CHECK (value >= 0),
    quality TEXT,
    PRIMARY KEY (meter, start, duration_ms)
  ) WITHOUT ROWID;
  INSERT INTO readings_v8 (meter, start, duration_ms, value, quality)
    SELECT k.key, r.start, r.duration_ms, r.value, r.quality FROM readings r JOIN meter_keys k ON k.meter_id = r.meter_id
    ORDER BY k.key, r.start, r.duration_ms;
  DROP TABLE readings;
  ALTER TABLE readings_v8 RENAME TO readings;
  `,
];
