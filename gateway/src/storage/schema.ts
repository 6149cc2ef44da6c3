/**
 * The SQLite schema as forward-only numbered migrations, inline so a compiled build needs no
 * asset files. `PRAGMA user_version` holds the number of the last applied migration. A
 * released migration is never edited: change the schema by appending a new one.
 */
import type { Database } from 'better-sqlite3';
import { PacklineError } from '../../../contracts/errors.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;

      -- Orders cache, filled by cloud sync. lines / print_data are JSON.
      CREATE TABLE orders (
        order_id         TEXT PRIMARY KEY,
        shop             TEXT NOT NULL,
        lines            TEXT NOT NULL,
        packaging_grams  INTEGER,
        refund_requested INTEGER NOT NULL DEFAULT 0,
        refunded         INTEGER NOT NULL DEFAULT 0,
        cancelled        INTEGER NOT NULL DEFAULT 0,
        platform_closed  INTEGER NOT NULL DEFAULT 0,
        shipped          INTEGER NOT NULL DEFAULT 0,
        carrier          TEXT,
        waybill          TEXT,
        print_data       TEXT,
        ship_by          INTEGER,
        revision         INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL
      );

      CREATE INDEX orders_waybill ON orders(waybill) WHERE waybill IS NOT NULL;

      -- Every code that identifies an order besides its id (platform order no., pick slip,
      -- waybill). A code belongs to one order: the latest order.put that lists it wins.
      -- (A rowid table: rowid keeps the order the codes were listed in.)
      CREATE TABLE order_barcodes (
        code     TEXT PRIMARY KEY,
        order_id TEXT NOT NULL REFERENCES orders(order_id) ON DELETE CASCADE
      );
      CREATE INDEX order_barcodes_order ON order_barcodes(order_id);

      CREATE TABLE shipments (
        shipment_id    TEXT PRIMARY KEY,
        order_id       TEXT NOT NULL,
        station_id     TEXT NOT NULL,
        state          TEXT NOT NULL CHECK (state IN
                         ('verifying','weighing','held','intercepted','labelling','printed','shipped','abandoned')),
        reason_code    TEXT,
        scanned        TEXT NOT NULL,
        expected_grams INTEGER,
        actual_grams   INTEGER,
        carrier        TEXT,
        waybill        TEXT,
        label_job_id   TEXT,
        operator       TEXT,
        opened_at      INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        shipped_at     INTEGER
      );
      CREATE INDEX shipments_order ON shipments(order_id, opened_at);
      CREATE INDEX shipments_station ON shipments(station_id, updated_at);
      CREATE INDEX shipments_updated ON shipments(updated_at);
      CREATE INDEX shipments_open ON shipments(state) WHERE state NOT IN ('shipped','abandoned');

      CREATE TABLE print_jobs (
        job_id      TEXT PRIMARY KEY,
        shipment_id TEXT,
        printer_id  TEXT NOT NULL,
        format      TEXT NOT NULL CHECK (format IN ('zpl','tspl')),
        data        TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('queued','sent','printing','printed','failed','cancelled')),
        reason      TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
      );
      CREATE INDEX print_jobs_pending ON print_jobs(created_at) WHERE state IN ('queued','sent','printing');
      CREATE INDEX print_jobs_shipment ON print_jobs(shipment_id);

      CREATE TABLE devices (
        device_id   TEXT PRIMARY KEY,
        role        TEXT NOT NULL,
        station     TEXT,
        model       TEXT,
        secret_hash TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        rotated_at  INTEGER NOT NULL
      );

      -- Inbox of applied device message ids (pruned by age and row count, see dedupe-prune).
      CREATE TABLE dedupe (
        device_id TEXT NOT NULL,
        msg_id    TEXT NOT NULL,
        at        INTEGER NOT NULL,
        PRIMARY KEY (device_id, msg_id)
      ) WITHOUT ROWID;
      CREATE INDEX dedupe_at ON dedupe(at);

      -- Append-only event log drained by cloud sync. AUTOINCREMENT keeps seq in
      -- sqlite_sequence, which is written inside the transaction: a rolled-back savepoint
      -- rolls the counter back too, so seq stays gap-free, and a seq is never reused even
      -- after old rows are pruned.
      CREATE TABLE events (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        hlc            TEXT NOT NULL,
        boot           INTEGER NOT NULL,
        clock_unsynced INTEGER NOT NULL,
        type           TEXT NOT NULL,
        subject        TEXT NOT NULL,
        data           TEXT NOT NULL
      );
      CREATE INDEX events_subject ON events(subject, seq);
      CREATE TRIGGER events_append_only BEFORE UPDATE ON events
      BEGIN
        SELECT RAISE(ABORT, 'events are append-only');
      END;
    `,
  },
  {
    version: 2,
    name: 'cloud sync failures',
    sql: `
      -- Events the cloud stored as rejected (validation or business rule), with its reason.
      -- They were acknowledged (the cursor moved past them, so they block nothing); this is
      -- the "sync failed" tag the supervisor lists and retries after a fix (packline sync retry).
      CREATE TABLE sync_failures (
        seq             INTEGER PRIMARY KEY,
        code            TEXT NOT NULL,
        reason          TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('failed','retry_requested','resolved')),
        attempts        INTEGER NOT NULL,
        first_failed_at INTEGER NOT NULL,
        last_failed_at  INTEGER NOT NULL,
        resolved_at     INTEGER
      );
      CREATE INDEX sync_failures_open ON sync_failures(state) WHERE state <> 'resolved';
    `,
  },
  {
    version: 3,
    name: 'supervisors and print exceptions',
    sql: `
      -- Supervisors who authorise guarded actions (reprint of a waybill) with a password;
      -- only its scrypt hash is kept (same encoding as devices.secret_hash).
      CREATE TABLE supervisors (
        name        TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        rotated_at  INTEGER NOT NULL
      );

      -- Failed jobs are few; the print-exception list looks only at them (a partial index is
      -- written only when a job fails, so it costs the SD card nothing per shipment).
      CREATE INDEX print_jobs_failed ON print_jobs(updated_at) WHERE state = 'failed';
    `,
  },
  {
    version: 4,
    name: 'dedupe seq and provisioned stations',
    sql: `
      -- The event-log seq a device message produced, so a duplicate is answered with the
      -- original ack, seq included (docs/mqtt.md §5). NULL for rows written before v4.
      ALTER TABLE dedupe ADD COLUMN seq INTEGER;

      -- Stations added at run time (packline station add, POST /api/v1/stations); the config's
      -- stations[] still come from the config file. station is the StationConfig as JSON.
      CREATE TABLE stations (
        station_id TEXT PRIMARY KEY,
        station    TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: 'dedupe key on the event row',
    sql: `
      -- A device message that produced events is recorded on its unit's last event row
      -- instead of a dedupe row: the unique index refuses a redelivery in the same insert, and
      -- an acknowledged step no longer writes the dedupe table and its dedupe_at index (two
      -- of the ~16 page images a step wrote; bench/commit-pages.ts). The dedupe table keeps
      -- messages that wrote no event and every row written before v5; readers look in both
      -- (store-reader.ts). A key lives as long as its event row (retention), the table's
      -- rows as long as storage.dedupeRetentionMs / dedupeMaxRows allow.
      ALTER TABLE events ADD COLUMN dedupe_device TEXT;
      ALTER TABLE events ADD COLUMN dedupe_msg TEXT;
      CREATE UNIQUE INDEX events_dedupe ON events(dedupe_device, dedupe_msg) WHERE dedupe_device IS NOT NULL;
    `,
  },
  {
    version: 6,
    name: 'append-only event log with projected lookups',
    sql: `
      -- An acknowledged step appends its event rows and nothing else on the event side: the
      -- two indexes on events (by subject, by device message key) were ~20 of the ~66 page
      -- images of 512 B a shipment wrote, and AUTOINCREMENT's sqlite_sequence row 4 more
      -- (bench/commit-pages.ts). The lookups move to side tables that the writer fills in
      -- batches from the log (event-projector.ts), in the same transaction as the mark
      -- store.projected_through; readers add the events after the mark (a rowid range scan).
      --
      -- seq: INTEGER PRIMARY KEY without AUTOINCREMENT is max(seq) + 1, gap-free under a
      -- rolled-back savepoint like before. Never reused: the insert takes the larger of that
      -- and store.seq_floor, which this migration sets from sqlite_sequence and retention
      -- raises whenever it deletes the newest event (retention-pruner.ts).
      CREATE TABLE events_v6 (
        seq            INTEGER PRIMARY KEY,
        hlc            TEXT NOT NULL,
        boot           INTEGER NOT NULL,
        clock_unsynced INTEGER NOT NULL,
        type           TEXT NOT NULL,
        subject        TEXT NOT NULL,
        data           TEXT NOT NULL,
        dedupe_device  TEXT,
        dedupe_msg     TEXT
      );
      INSERT INTO events_v6 (seq, hlc, boot, clock_unsynced, type, subject, data, dedupe_device, dedupe_msg)
        SELECT seq, hlc, boot, clock_unsynced, type, subject, data, dedupe_device, dedupe_msg FROM events ORDER BY seq;
      INSERT INTO meta (key, value)
        SELECT 'store.seq_floor', CAST(seq AS TEXT) FROM sqlite_sequence WHERE name = 'events'
        ON CONFLICT(key) DO UPDATE SET value = excluded.value;
      DROP TABLE events;
      ALTER TABLE events_v6 RENAME TO events;
      CREATE TRIGGER events_append_only BEFORE UPDATE ON events
      BEGIN
        SELECT RAISE(ABORT, 'events are append-only');
      END;

      -- Events by subject (eventsForSubject, lastEvent, retention), for seq <= the mark.
      CREATE TABLE event_subjects (
        subject TEXT NOT NULL,
        seq     INTEGER NOT NULL,
        PRIMARY KEY (subject, seq)
      ) WITHOUT ROWID;
      -- A device message key carried by an event row (schema v5), for seq <= the mark. The
      -- primary key keeps a key unique; keys after the mark are checked in the writer's memory.
      CREATE TABLE event_dedupe (
        device_id TEXT NOT NULL,
        msg_id    TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        PRIMARY KEY (device_id, msg_id)
      ) WITHOUT ROWID;
      INSERT INTO event_subjects (subject, seq) SELECT subject, seq FROM events ORDER BY subject, seq;
      INSERT INTO event_dedupe (device_id, msg_id, seq)
        SELECT dedupe_device, dedupe_msg, seq FROM events WHERE dedupe_device IS NOT NULL ORDER BY dedupe_device, dedupe_msg;
      INSERT INTO meta (key, value) VALUES ('store.projected_through', CAST((SELECT coalesce(max(seq), 0) FROM events) AS TEXT))
        ON CONFLICT(key) DO UPDATE SET value = excluded.value;

      -- Retention deletes events; their lookups go with them.
      CREATE TRIGGER events_pruned AFTER DELETE ON events
      BEGIN
        DELETE FROM event_subjects WHERE subject = OLD.subject AND seq = OLD.seq;
        DELETE FROM event_dedupe WHERE OLD.dedupe_device IS NOT NULL
          AND device_id = OLD.dedupe_device AND msg_id = OLD.dedupe_msg AND seq = OLD.seq;
      END;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Brings the database up to {@link SCHEMA_VERSION}, one transaction per migration. Safe
 * against a concurrent opener (BEGIN IMMEDIATE, version re-read inside the transaction).
 * Refuses a database written by a newer build (forward-only: we never guess a downgrade).
 * Returns the migrations applied.
 */
export function migrate(db: Database): number[] {
  const applied: number[] = [];
  for (;;) {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new PacklineError('PKL_STORE_UNAVAILABLE', {
        reason: `database schema v${version} is newer than this build (v${SCHEMA_VERSION})`,
      });
    }
    const next = MIGRATIONS.find((m) => m.version === version + 1);
    if (!next) return applied;
    db.exec('BEGIN IMMEDIATE');
    try {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current === version) {
        db.exec(next.sql);
        // PRAGMA takes no bound parameters; the value is our own integer constant.
        db.pragma(`user_version = ${next.version}`);
        applied.push(next.version);
      }
      db.exec('COMMIT');
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw err;
    }
  }
}

/**
 * The writer's auto-checkpoint threshold (pages) while checkpoint-worker.ts checkpoints on
 * its own thread: a safety net that only triggers if that thread dies or falls far behind
 * (8 MiB of WAL with 512-byte pages, 16 MiB with 1 KiB, vs SQLite's default of 1,000 pages).
 */
export const WRITER_SAFETY_CHECKPOINT_PAGES = 16_384;

/** Connection settings shared by the writer and the admin opener. */
export function configureWriterConnection(db: Database, pageSize = 512, autoVacuum: 'INCREMENTAL' | 'NONE' = 'INCREMENTAL'): void {
  // 512-byte pages (SQLite's minimum; default 4096) for new databases: every commit writes
  // a full image of each B-tree page it touches — a station step touches ~14 (table and index
  // leaves, the odd interior page) — so the page size is what an SD card wears per commit.
  // bench/commit-pages.ts, one commit per acknowledged step: 34.6 KB per shipment with 512 B
  // pages, 56.9 KB with 1 KiB, 96 KB with 2 KiB, 179 KB with 4 KiB. Rows here are small (a
  // label's ZPL overflows, read back only by the printer path). Takes effect only when the
  // database is created (before WAL is switched on): a database made with 1 KiB pages keeps them.
  db.pragma(`page_size = ${Math.floor(pageSize)}`);
  // Free pages go back to the file system in small steps after retention deletes rows
  // (retention-vacuum.ts). Like page_size it takes effect only while the file is new: after
  // page_size (setting it fixes the page size) and before WAL (which writes the header).
  // The price (bench/commit-pages.ts): every page allocated or moved under a new parent also
  // rewrites its pointer-map page, ~4.7 page images of the ~53 a shipment writes (schema v6).
  db.pragma(`auto_vacuum = ${autoVacuum === 'NONE' ? 'NONE' : 'INCREMENTAL'}`);
  // WAL: readers never block the writer and never fsync. FULL: the WAL is fsynced at every
  // commit, so an acknowledged write survives power loss (SQLite docs, "PRAGMA synchronous").
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  // Another process (the CLI) may hold the write lock for a moment.
  db.pragma('busy_timeout = 5000');
  // Avoid temp files on the SD card (wear, see docs/decisions/0002-sqlite-writer.md).
  db.pragma('temp_store = MEMORY');
  // Truncate the WAL back to 64 MB after checkpoints instead of letting it stay at its peak.
  db.pragma('journal_size_limit = 67108864');
}
