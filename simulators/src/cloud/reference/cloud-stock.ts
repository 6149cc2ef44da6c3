/**
 * The WMS stock of the reference cloud: units per SKU per location, kept as docs/sync.md §17
 * says a cloud keeps it — its last count of each (location, SKU) plus the gateway's moves after
 * the count's `as_of_seq`. A move is what an accepted picking event does to a location
 * (docs/picking.md lists the events):
 *
 * | event | move |
 * |---|---|
 * | `pick.confirmed` | −qty at its location |
 * | `pick.short` | −found at its location |
 * | `stock.corrected` | to − from at its location |
 * | `pick.order_pulled` | +qty per returned line, at that line's location (from the wave's `wave.built`) |
 * | `wave.cancelled` | +picked per line of the wave, back to its location |
 * | `replenishment.confirmed` | −qty at `from`, +qty at `to` |
 * | `stock.set` without `as_of_seq` | a count made on the floor (the gateway's own import): the count, as of that event |
 *
 * A `stock.set` with `as_of_seq` is one of the cloud's own counts coming back through the
 * gateway's log: already held, nothing to do. Effects run inside the ingest transaction for
 * an event the first time it is stored as accepted (batch-ingest.ts), so a redelivery never
 * moves stock twice. The moves are kept per (gateway, seq), so "count + moves after as_of_seq"
 * is one query, and the checker can rebuild the same figure from the gateway's own log
 * (checker.ts) with {@link stockEffects}, the one derivation both sides use.
 */
import type { Database as Db, Statement } from 'better-sqlite3';

/** The cloud store as this module uses it (cloud-db.ts CloudDb; structural, so cloud-db can create these tables). */
export interface StockDb {
  readonly db: Db;
}

export const STOCK_SCHEMA = `
  -- The last count of each SKU at each location: the cloud's own (POST /admin/floor, as of its
  -- hwm for the gateway) or one the gateway made on the floor (as of that event's seq).
  CREATE TABLE IF NOT EXISTS stock_counts (
    location   TEXT NOT NULL,
    sku        TEXT NOT NULL,
    qty        INTEGER NOT NULL,
    gateway_id TEXT,                           -- whose moves count after as_of_seq (NULL: every gateway's)
    as_of_seq  INTEGER NOT NULL,
    revision   INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (location, sku)
  ) WITHOUT ROWID;

  -- What each accepted picking event moved, once per (gateway, seq, n).
  CREATE TABLE IF NOT EXISTS stock_moves (
    gateway_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    n          INTEGER NOT NULL,
    location   TEXT NOT NULL,
    sku        TEXT NOT NULL,
    delta      INTEGER NOT NULL,
    type       TEXT NOT NULL,
    PRIMARY KEY (gateway_id, seq, n)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS stock_moves_at ON stock_moves(location, sku, gateway_id, seq);

  -- Wave lines (wave.built) with the units picked on them: where a returned unit goes back to.
  CREATE TABLE IF NOT EXISTS pick_lines (
    gateway_id TEXT NOT NULL,
    wave_id    TEXT NOT NULL,
    line_no    INTEGER NOT NULL,
    location   TEXT NOT NULL,
    sku        TEXT NOT NULL,
    picked     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (gateway_id, wave_id, line_no)
  ) WITHOUT ROWID;
`;

/** One wave line as the effects need it. */
export interface PickLine {
  location: string;
  sku: string;
  picked: number;
}

/** Where the effects read and write wave lines (the cloud's table, or the checker's map). */
export interface PickLines {
  get(waveId: string, lineNo: number): PickLine | null;
  lines(waveId: string): Array<[lineNo: number, line: PickLine]>;
  put(waveId: string, lineNo: number, line: PickLine): void;
}

export type Move = [location: string, sku: string, delta: number];

export interface StockEffects {
  moves: Move[];
  /** A count made on the floor (a `stock.set` without `as_of_seq`). */
  count: { location: string; sku: string; qty: number; revision: number } | null;
}

const NONE: StockEffects = { moves: [], count: null };

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * What one picking event does to stock, updating the wave lines it reads. Pure apart from
 * `lines`; events of other types (and malformed ones) move nothing.
 */
export function stockEffects(type: string, data: unknown, lines: PickLines): StockEffects {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return NONE;
  const d = data as Record<string, unknown>;
  const location = str(d.location);
  const sku = str(d.sku);
  const waveId = str(d.wave_id);
  switch (type) {
    case 'wave.built': {
      if (waveId === null || !Array.isArray(d.lines)) return NONE;
      for (const l of d.lines as unknown[]) {
        if (!Array.isArray(l)) continue;
        const [lineNo, loc, s] = l as [unknown, unknown, unknown];
        if (typeof lineNo === 'number' && typeof loc === 'string' && typeof s === 'string') lines.put(waveId, lineNo, { location: loc, sku: s, picked: 0 });
      }
      return NONE;
    }
    case 'pick.confirmed':
    case 'pick.short': {
      if (location === null || sku === null) return NONE;
      const qty = num(type === 'pick.confirmed' ? d.qty : d.found);
      const line = waveId === null ? null : lines.get(waveId, num(d.line_no));
      if (line !== null && waveId !== null) lines.put(waveId, num(d.line_no), { ...line, picked: line.picked + qty });
      return qty === 0 ? NONE : { moves: [[location, sku, -qty]], count: null };
    }
    case 'stock.corrected':
      if (location === null || sku === null) return NONE;
      return { moves: [[location, sku, num(d.to) - num(d.from)]], count: null };
    case 'pick.order_pulled': {
      if (waveId === null || !Array.isArray(d.returned)) return NONE;
      const moves: Move[] = [];
      for (const r of d.returned as unknown[]) {
        if (!Array.isArray(r)) continue;
        const lineNo = num(r[0]);
        const qty = num(r[1]);
        const line = lines.get(waveId, lineNo);
        if (line === null || qty === 0) continue;
        lines.put(waveId, lineNo, { ...line, picked: line.picked - qty });
        moves.push([line.location, line.sku, qty]);
      }
      return { moves, count: null };
    }
    case 'wave.cancelled': {
      if (waveId === null) return NONE;
      const moves: Move[] = [];
      for (const [lineNo, line] of lines.lines(waveId)) {
        if (line.picked <= 0) continue;
        moves.push([line.location, line.sku, line.picked]);
        lines.put(waveId, lineNo, { ...line, picked: 0 });
      }
      return { moves, count: null };
    }
    case 'replenishment.confirmed': {
      const from = str(d.from);
      const to = str(d.to);
      const qty = num(d.qty);
      if (from === null || to === null || sku === null || qty === 0) return NONE;
      return {
        moves: [
          [from, sku, -qty],
          [to, sku, qty],
        ],
        count: null,
      };
    }
    case 'stock.set':
      if (location === null || sku === null || d.as_of_seq !== undefined) return NONE;
      return { moves: [], count: { location, sku, qty: num(d.qty), revision: num(d.revision) } };
    default:
      return NONE;
  }
}

/** The picking event types that can move stock or hold the lines that do. */
export const STOCK_EVENT_TYPES: ReadonlySet<string> = new Set([
  'wave.built',
  'pick.confirmed',
  'pick.short',
  'stock.corrected',
  'pick.order_pulled',
  'wave.cancelled',
  'replenishment.confirmed',
  'stock.set',
]);

const statements = new WeakMap<Db, Map<string, Statement>>();

/** A statement prepared once per connection, when first used (the checker's connection is read-only). */
function prep(db: Db, sql: string): Statement {
  let m = statements.get(db);
  if (m === undefined) {
    m = new Map();
    statements.set(db, m);
  }
  let s = m.get(sql);
  if (s === undefined) {
    s = db.prepare(sql);
    m.set(sql, s);
  }
  return s;
}

const SQL = {
  line: 'SELECT location, sku, picked FROM pick_lines WHERE gateway_id = ? AND wave_id = ? AND line_no = ?',
  lines: 'SELECT line_no, location, sku, picked FROM pick_lines WHERE gateway_id = ? AND wave_id = ? ORDER BY line_no',
  putLine: `INSERT INTO pick_lines(gateway_id, wave_id, line_no, location, sku, picked) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(gateway_id, wave_id, line_no) DO UPDATE SET location = excluded.location, sku = excluded.sku, picked = excluded.picked`,
  move: 'INSERT OR IGNORE INTO stock_moves(gateway_id, seq, n, location, sku, delta, type) VALUES (?, ?, ?, ?, ?, ?, ?)',
  putCount: `INSERT INTO stock_counts(location, sku, qty, gateway_id, as_of_seq, revision, at) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT(location, sku) DO UPDATE SET qty = excluded.qty, gateway_id = excluded.gateway_id,
               as_of_seq = excluded.as_of_seq, revision = excluded.revision, at = excluded.at`,
  stockAll: `SELECT k.location, k.sku, k.qty + COALESCE((SELECT SUM(m.delta) FROM stock_moves m
               WHERE m.location = k.location AND m.sku = k.sku AND (k.gateway_id IS NULL OR m.gateway_id = k.gateway_id)
                 AND m.seq > k.as_of_seq), 0) AS qty, k.revision, k.as_of_seq
             FROM stock_counts k ORDER BY k.location, k.sku`,
  movedOnly: `SELECT m.location, m.sku, SUM(m.delta) AS qty FROM stock_moves m
              WHERE NOT EXISTS (SELECT 1 FROM stock_counts k WHERE k.location = m.location AND k.sku = m.sku)
              GROUP BY m.location, m.sku ORDER BY m.location, m.sku`,
  picks: `SELECT COUNT(*) AS lines, COALESCE(SUM(json_extract(data, '$.qty')), 0) AS units FROM events
          WHERE gateway_id = ? AND type = 'pick.confirmed' AND status = 'accepted'`,
} as const;

/** The cloud's wave lines of one gateway. */
function cloudLines(db: Db, gatewayId: string): PickLines {
  return {
    get: (waveId, lineNo) => (prep(db, SQL.line).get(gatewayId, waveId, lineNo) as PickLine | undefined) ?? null,
    lines: (waveId) => (prep(db, SQL.lines).all(gatewayId, waveId) as Array<PickLine & { line_no: number }>).map((r) => [r.line_no, r]),
    put: (waveId, lineNo, l) => void prep(db, SQL.putLine).run(gatewayId, waveId, lineNo, l.location, l.sku, l.picked),
  };
}

/** Applies an accepted event's stock effects (in the ingest transaction; once per seq). */
export function applyStockEffects(db: StockDb, gatewayId: string, e: { seq: number; type: string; data: unknown }, at: number): void {
  if (!STOCK_EVENT_TYPES.has(e.type)) return;
  const fx = stockEffects(e.type, e.data, cloudLines(db.db, gatewayId));
  const move = prep(db.db, SQL.move);
  for (const [n, [location, sku, delta]] of fx.moves.entries()) move.run(gatewayId, e.seq, n, location, sku, delta, e.type);
  if (fx.count !== null) prep(db.db, SQL.putCount).run(fx.count.location, fx.count.sku, fx.count.qty, gatewayId, e.seq, fx.count.revision, at);
}

/** Records one of the cloud's own counts (POST /admin/floor), as of `asOfSeq` of `gatewayId`. */
export function putCount(
  db: StockDb,
  c: { location: string; sku: string; qty: number; revision: number },
  gatewayId: string | null,
  asOfSeq: number,
  at: number,
): void {
  prep(db.db, SQL.putCount).run(c.location, c.sku, c.qty, gatewayId, asOfSeq, c.revision, at);
}

export interface CloudStockRow {
  location: string;
  sku: string;
  qty: number;
  /** The count it starts from: its revision, and the gateway seq it is as of. */
  revision: number | null;
  as_of_seq: number | null;
}

/** The cloud's stock: every counted (location, SKU) with the moves after its count, then pairs only moved. */
export function cloudStock(db: Db): CloudStockRow[] {
  const counted = prep(db, SQL.stockAll).all() as CloudStockRow[];
  const moved = (prep(db, SQL.movedOnly).all() as Array<{ location: string; sku: string; qty: number }>).map((r) => ({
    ...r,
    revision: null,
    as_of_seq: null,
  }));
  return [...counted, ...moved];
}

/** Confirmed pick lines and units the cloud holds for a gateway. */
export function cloudPicks(db: Db, gatewayId: string): { lines: number; units: number } {
  return prep(db, SQL.picks).get(gatewayId) as { lines: number; units: number };
}
