/**
 * The sync conformance kit: drives a cloud's implementation of the sync contract
 * (docs/sync.md, contracts/sync.ts) through the protocol, as a gateway would and as a broken
 * or hostile one would, and says what the cloud does wrong. `packline sync conformance`
 * prints its findings; CI runs it against the reference cloud and against deliberately
 * broken ones (cloud-sync/test/integration/conformance.test.ts).
 *
 * It acts as one gateway (`gatewayId`, with its key) and writes probe events
 * (`conformance.probe`) after whatever that gateway already has upstream, so it can run
 * again; use a gateway id provisioned for testing, never a production gateway's.
 *
 * The checks are {@link CONFORMANCE_CHECKS}; a finding names one of them (or `transport`
 * when the cloud did not answer at all).
 */
import { gzipSync } from 'node:zlib';
import {
  BatchAck,
  CursorReply,
  RetryAck,
  SYNC_HEADERS,
  SYNC_LIMITS,
  SYNC_PATHS,
  SYNC_PROTOCOL_VERSION,
  SYNC_REQUEST_ERRORS,
  ShopAuthorisations,
  batchIdempotencyKey,
  signRequest,
} from '../../../contracts/sync.js';
import { answerReader } from '../answer-reader.js';
import { ChangePageEnvelope, readChange } from '../sync-client.js';
import type { SyncResponse, SyncTransport } from '../transport.js';

export interface Finding {
  check: string;
  ok: boolean;
  /** What was expected and what the cloud did (for a failure), or what was seen. */
  detail: string;
}

export interface ConformanceOptions {
  transport: SyncTransport;
  gatewayId: string;
  key: string;
  /** Request timeout (default 15 s). */
  timeoutMs?: number;
  now?: () => number;
  /** Progress lines (one per check). */
  onFinding?: (f: Finding) => void;
}

/** Every check the kit makes, in order (docs/sync.md §12 lists them; a test keeps the two in step). */
export const CONFORMANCE_CHECKS = [
  'answers.version',
  'cursor.read',
  'auth.bad_signature',
  'auth.unknown_gateway',
  'auth.stale_timestamp',
  'version.unsupported',
  'batch.in_order',
  'batch.duplicate',
  'batch.overlap',
  'batch.gap',
  'batch.non_contiguous',
  'batch.idempotency_key',
  'batch.not_gzip',
  'rejection.stored',
  'rejection.repeated_on_redelivery',
  'retry.answer',
  'retry.accepted_again',
  'retry.unknown_seq',
  'changes.page',
  'changes.limit',
  'changes.paging',
  'changes.empty_page_cursor',
  'changes.bad_limit',
  'shops.answer',
] as const;

/** Event type of the kit's probe events; a cloud stores them like any event it does not use. */
export const PROBE_EVENT = 'conformance.probe';

const readAck = answerReader(BatchAck, 'batch ack');
const readRetry = answerReader(RetryAck, 'retry ack');
const readCursor = answerReader(CursorReply, 'cursor');
/** Envelope only: each change is read on its own below, as the gateway does. */
const readPage = answerReader(ChangePageEnvelope, 'change page');
const readShops = answerReader(ShopAuthorisations, 'shop list');

interface Probe {
  seq: number;
  hlc: string;
  boot: number;
  clock_unsynced: boolean;
  type: string;
  subject: string;
  data: unknown;
}

export async function runConformance(opts: ConformanceOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  const now = opts.now ?? Date.now;
  const gw = opts.gatewayId;
  const timeout = opts.timeoutMs ?? 15_000;
  const note = (check: string, ok: boolean, detail: string) => {
    const f = { check, ok, detail };
    findings.push(f);
    opts.onFinding?.(f);
    return ok;
  };
  const probe = (seq: number, data: unknown = { n: seq }): Probe => ({
    seq,
    hlc: `${String(now()).padStart(13, '0')}.${String(seq % 1_000_000).padStart(6, '0')}`,
    boot: 1,
    clock_unsynced: false,
    type: PROBE_EVENT,
    subject: `conformance:${gw}:${seq}`,
    data,
  });

  interface Send {
    method: 'GET' | 'POST';
    path: string;
    body?: Uint8Array;
    idempotencyKey?: string;
    /** Sign with this key instead (a forged signature). */
    signKey?: string;
    gatewayHeader?: string;
    timestamp?: number;
    version?: string;
  }
  const send = async (s: Send): Promise<SyncResponse | null> => {
    const body = s.body ?? new Uint8Array(0);
    const timestamp = s.timestamp ?? now();
    const gatewayId = s.gatewayHeader ?? gw;
    const headers: Record<string, string> = {
      [SYNC_HEADERS.gateway]: gatewayId,
      [SYNC_HEADERS.timestamp]: String(timestamp),
      [SYNC_HEADERS.version]: s.version ?? String(SYNC_PROTOCOL_VERSION),
      [SYNC_HEADERS.signature]: signRequest(s.signKey ?? opts.key, {
        method: s.method,
        path: s.path,
        gatewayId,
        timestamp,
        ...(s.idempotencyKey !== undefined ? { idempotencyKey: s.idempotencyKey } : {}),
        body,
      }),
      accept: 'application/json',
    };
    if (s.idempotencyKey !== undefined) headers[SYNC_HEADERS.idempotencyKey] = s.idempotencyKey;
    if (s.method === 'POST') {
      headers['content-type'] = 'application/json';
      headers['content-encoding'] = 'gzip';
    }
    try {
      return await opts.transport.request({ method: s.method, path: s.path, headers, body: s.method === 'POST' ? body : null }, timeout);
    } catch (err) {
      note('transport', false, `no answer to ${s.method} ${s.path}: ${(err as Error).message}`);
      return null;
    }
  };
  const batchBody = (events: Probe[], over: Record<string, unknown> = {}) =>
    gzipSync(
      JSON.stringify({
        v: SYNC_PROTOCOL_VERSION,
        gateway_id: gw,
        first_seq: events[0]!.seq,
        last_seq: events[events.length - 1]!.seq,
        sent_at: now(),
        events,
        ...over,
      }),
    );
  const postBatch = (events: Probe[], s: Partial<Send> = {}) =>
    send({
      method: 'POST',
      path: SYNC_PATHS.batches(gw),
      body: batchBody(events),
      idempotencyKey: batchIdempotencyKey(gw, events[0]!.seq, events[events.length - 1]!.seq),
      ...s,
    });
  const range = (from: number, to: number, data?: (seq: number) => unknown) =>
    Array.from({ length: to - from + 1 }, (_, i) => probe(from + i, data?.(from + i)));
  const errCode = (r: SyncResponse | null) => (r?.body as { error?: { code?: unknown } } | null)?.error?.code;
  const show = (r: SyncResponse | null) => (r === null ? 'no answer' : `${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  /** A refused request: the status and the error code the contract names. */
  const refused = (check: string, r: SyncResponse | null, status: number, code: string, what: string) =>
    note(
      check,
      r !== null && r.status === status && errCode(r) === code,
      r !== null && r.status === status && errCode(r) === code
        ? `${what}: ${status} ${code}`
        : `${what}: expected ${status} {"error":{"code":"${code}"}}, got ${show(r)}`,
    );
  const ack = (check: string, r: SyncResponse | null) => {
    if (r === null || r.status !== 200) {
      note(check, false, `expected 200 with a BatchAck, got ${show(r)}`);
      return null;
    }
    const a = readAck(r.body);
    if (!a.ok) {
      note(check, false, `expected a BatchAck {"v":1,"acked_seq":N,"rejected":[…]}: ${a.error}`);
      return null;
    }
    return a.value;
  };
  const cursor = async (): Promise<number | null> => {
    const r = await send({ method: 'GET', path: SYNC_PATHS.cursor(gw) });
    if (r === null || r.status !== 200) return null;
    const c = readCursor(r.body);
    return c.ok ? c.value.acked_seq : null;
  };

  // ---- the cloud's cursor and the version of its answers ----------------------------------
  const first = await send({ method: 'GET', path: SYNC_PATHS.cursor(gw) });
  if (first === null || first.status !== 200) {
    note('cursor.read', false, `GET ${SYNC_PATHS.cursor(gw)} must answer 200 {"acked_seq": N} for a provisioned gateway; got ${show(first)}`);
    return findings;
  }
  const c0 = readCursor(first.body);
  if (!c0.ok) {
    note('cursor.read', false, c0.error);
    return findings;
  }
  const v = (first.body as { v?: unknown }).v;
  note(
    'answers.version',
    v === SYNC_PROTOCOL_VERSION,
    v === SYNC_PROTOCOL_VERSION
      ? `answers carry "v": ${v}`
      : `every answer should carry "v": ${SYNC_PROTOCOL_VERSION} (absent is read as 1, but say it); got ${JSON.stringify(v)}`,
  );
  let h = c0.value.acked_seq;
  note('cursor.read', true, `high-water mark of ${gw}: ${h}`);

  // ---- authentication ---------------------------------------------------------------------
  let r = await postBatch(range(h + 1, h + 1), { signKey: `${opts.key}-forged` });
  refused('auth.bad_signature', r, 401, SYNC_REQUEST_ERRORS.unauthorized, 'a batch signed with the wrong key');
  if ((await cursor()) !== h) note('auth.bad_signature', false, 'a batch with a bad signature moved the cursor: it was stored');
  r = await send({ method: 'GET', path: SYNC_PATHS.cursor(`${gw}-unknown`), gatewayHeader: `${gw}-unknown` });
  refused('auth.unknown_gateway', r, 401, SYNC_REQUEST_ERRORS.unauthorized, 'a request from a gateway the cloud does not know');
  r = await postBatch(range(h + 1, h + 1), { timestamp: now() - SYNC_LIMITS.signatureSkewMs - 60_000 });
  refused('auth.stale_timestamp', r, 401, SYNC_REQUEST_ERRORS.stale, 'a batch signed 16 minutes ago');
  r = await postBatch(range(h + 1, h + 1), { version: '999' });
  refused('version.unsupported', r, 400, SYNC_REQUEST_ERRORS.versionUnsupported, 'a request in contract version 999');
  h = (await cursor()) ?? h;

  // ---- ordering, duplicates, lost acks, gaps ------------------------------------------------
  let a = ack('batch.in_order', await postBatch(range(h + 1, h + 3)));
  if (a !== null) {
    note(
      'batch.in_order',
      a.acked_seq === h + 3 && a.duplicate !== true,
      `3 new events ${h + 1}-${h + 3}: expected acked_seq ${h + 3}, not duplicate; got acked_seq ${a.acked_seq}, duplicate ${String(a.duplicate)}`,
    );
  }
  a = ack('batch.duplicate', await postBatch(range(h + 1, h + 3)));
  if (a !== null) {
    note(
      'batch.duplicate',
      a.acked_seq === h + 3 && a.duplicate === true,
      `the same batch again (a lost answer): expected acked_seq ${h + 3}, duplicate true; got acked_seq ${a.acked_seq}, duplicate ${String(a.duplicate)}`,
    );
  }
  a = ack('batch.overlap', await postBatch(range(h + 2, h + 5)));
  if (a !== null) {
    note(
      'batch.overlap',
      a.acked_seq === h + 5 && a.duplicate !== true,
      `${h + 2}-${h + 5}, two of them stored before: expected acked_seq ${h + 5}, not duplicate; got acked_seq ${a.acked_seq}, duplicate ${String(a.duplicate)}`,
    );
  }
  h += 5;
  a = ack('batch.gap', await postBatch(range(h + 3, h + 4)));
  if (a !== null) {
    const after = await cursor();
    note(
      'batch.gap',
      a.acked_seq === h && after === h,
      `a batch starting at ${h + 3} (high-water ${h}): expected 200, acked_seq ${h}, nothing stored; got acked_seq ${a.acked_seq}, cursor after ${after}`,
    );
  }
  h = (await cursor()) ?? h;
  const holes = [probe(h + 1), probe(h + 3)];
  r = await send({
    method: 'POST',
    path: SYNC_PATHS.batches(gw),
    body: batchBody(holes),
    idempotencyKey: batchIdempotencyKey(gw, h + 1, h + 3),
  });
  refused('batch.non_contiguous', r, 400, SYNC_REQUEST_ERRORS.malformed, `a batch holding seqs ${h + 1} and ${h + 3}`);
  r = await postBatch(range(h + 1, h + 2), { idempotencyKey: batchIdempotencyKey(gw, h + 1, h + 9) });
  refused('batch.idempotency_key', r, 400, SYNC_REQUEST_ERRORS.malformed, 'a batch whose idempotency key names another range');
  r = await send({
    method: 'POST',
    path: SYNC_PATHS.batches(gw),
    body: Buffer.from('{"v":1}'),
    idempotencyKey: batchIdempotencyKey(gw, h + 1, h + 1),
  });
  refused('batch.not_gzip', r, 400, SYNC_REQUEST_ERRORS.malformed, 'a body that is not gzip');
  const hAfterRefusals = (await cursor()) ?? -1;
  if (hAfterRefusals !== h) note('batch.non_contiguous', false, `refused requests moved the cursor from ${h} to ${hAfterRefusals}`);
  h = hAfterRefusals >= 0 ? hAfterRefusals : h;

  // ---- rejections, and their repetition after a lost ack -------------------------------------
  // An event whose data is not a JSON object must be stored as rejected (docs/sync.md §3.2).
  const bad = h + 2;
  a = ack('rejection.stored', await postBatch([probe(h + 1), probe(bad, 'not an object'), probe(h + 3)]));
  if (a !== null) {
    const got = a.rejected.find((x) => x.seq === bad);
    note(
      'rejection.stored',
      a.acked_seq === h + 3 && got !== undefined && a.rejected.length === 1,
      `event ${bad} with non-object data: expected acked_seq ${h + 3} and only ${bad} in rejected; got acked_seq ${a.acked_seq}, rejected ${JSON.stringify(a.rejected)}`,
    );
  }
  a = ack('rejection.repeated_on_redelivery', await postBatch([probe(h + 1), probe(bad, 'not an object'), probe(h + 3)]));
  if (a !== null) {
    note(
      'rejection.repeated_on_redelivery',
      a.rejected.some((x) => x.seq === bad) && a.duplicate === true,
      `the same batch again (its ack was lost): expected ${bad} in rejected again and duplicate true; got rejected ${JSON.stringify(a.rejected)}, duplicate ${String(a.duplicate)}`,
    );
  }
  const retry = (events: Probe[]) =>
    send({ method: 'POST', path: SYNC_PATHS.retries(gw), body: gzipSync(JSON.stringify({ v: SYNC_PROTOCOL_VERSION, gateway_id: gw, events })) });
  const retryAnswer = async (check: string, events: Probe[]) => {
    const rr = await retry(events);
    if (rr === null || rr.status !== 200) {
      note(check, false, `expected 200 with {"accepted": [...], "rejected": [...]}, got ${show(rr)}`);
      return null;
    }
    const ra = readRetry(rr.body);
    if (!ra.ok) {
      note(check, false, `expected a RetryAck {"v":1,"accepted":[seq…],"rejected":[{seq,code,reason}…]}: ${ra.error}`);
      return null;
    }
    return ra.value;
  };
  let ra = await retryAnswer('retry.answer', [probe(bad, 'not an object')]);
  if (ra !== null) {
    note(
      'retry.answer',
      ra.rejected.some((x) => x.seq === bad) && !ra.accepted.includes(bad),
      `retry of ${bad}, still invalid: expected it in rejected; got ${JSON.stringify(ra)}`,
    );
  }
  ra = await retryAnswer('retry.accepted_again', [probe(h + 1)]);
  if (ra !== null) {
    note(
      'retry.accepted_again',
      ra.accepted.includes(h + 1),
      `retry of ${h + 1}, accepted before: expected it in accepted (that answer may have been lost); got ${JSON.stringify(ra)}`,
    );
  }
  ra = await retryAnswer('retry.unknown_seq', [probe(h + 1_000)]);
  if (ra !== null) {
    const listed = ra.accepted.includes(h + 1_000) || ra.rejected.some((x) => x.seq === h + 1_000);
    note('retry.unknown_seq', !listed, `retry of ${h + 1_000}, never stored: expected it in neither list; got ${JSON.stringify(ra)}`);
  }

  // ---- the change feed ----------------------------------------------------------------------
  const page = async (check: string, after: string, limit: number) => {
    const q = new URLSearchParams({ after, limit: String(limit) });
    const pr = await send({ method: 'GET', path: `${SYNC_PATHS.changes(gw)}?${q.toString()}` });
    if (pr === null || pr.status !== 200) {
      note(check, false, `GET changes?after=${after}&limit=${limit}: expected 200 with a ChangesPage, got ${show(pr)}`);
      return null;
    }
    const p = readPage(pr.body);
    if (!p.ok) {
      note(check, false, `expected a ChangesPage {"v":1,"changes":[…],"next_cursor":"…","has_more":false}: ${p.error}`);
      return null;
    }
    const raw = (pr.body as { changes: unknown[] }).changes;
    raw.forEach((c, i) => {
      const rc = readChange(c);
      if ('bad' in rc) note('changes.page', false, `change ${i} of the page after "${after}" cannot be read (${rc.bad.code}): ${rc.bad.reason}`);
    });
    return { changes: raw as Array<{ cursor?: unknown }>, next: p.value.next_cursor, more: p.value.has_more };
  };
  const p1 = await page('changes.page', '', 2);
  if (p1 !== null) {
    note('changes.page', true, `first page from the initial cursor "": ${p1.changes.length} change(s), has_more ${p1.more}`);
    note('changes.limit', p1.changes.length <= 2, `limit=2: expected at most 2 changes, got ${p1.changes.length}`);
    // Follow the cursor for a few pages: each page's next_cursor must lead on, and a page
    // with has_more must not be empty.
    let cur = p1;
    let after = '';
    let pages = 1;
    let pagingOk = true;
    while (cur.more && pages < 10) {
      if (cur.changes.length === 0) {
        pagingOk = note('changes.paging', false, `page after "${after}" is empty but says has_more`);
        break;
      }
      if (cur.next === after) {
        pagingOk = note('changes.paging', false, `next_cursor "${cur.next}" does not move past a non-empty page`);
        break;
      }
      after = cur.next;
      const nx = await page('changes.paging', after, 2);
      if (nx === null) {
        pagingOk = false;
        break;
      }
      cur = nx;
      pages += 1;
    }
    if (pagingOk) note('changes.paging', true, `followed ${pages} page(s) of at most 2`);
    // The end of the feed: an empty page repeats the request's cursor, so the gateway never
    // goes back to the start.
    let end = cur.next;
    let tail = await page('changes.empty_page_cursor', end, SYNC_LIMITS.maxChanges);
    for (let i = 0; tail !== null && tail.changes.length > 0 && i < 50; i++) {
      end = tail.next;
      tail = await page('changes.empty_page_cursor', end, SYNC_LIMITS.maxChanges);
    }
    if (tail !== null) {
      note(
        'changes.empty_page_cursor',
        tail.changes.length === 0 && tail.next === end && !tail.more,
        `at the end of the feed (after "${end}"): expected no changes, next_cursor "${end}", has_more false; got ${tail.changes.length} change(s), next_cursor ${JSON.stringify(tail.next)}, has_more ${tail.more}`,
      );
    }
  }

  const q0 = new URLSearchParams({ after: '', limit: '0' });
  r = await send({ method: 'GET', path: `${SYNC_PATHS.changes(gw)}?${q0.toString()}` });
  refused('changes.bad_limit', r, 400, SYNC_REQUEST_ERRORS.malformed, 'a change-feed request with limit=0');

  // ---- the shops endpoint (optional) ----------------------------------------------------------
  r = await send({ method: 'GET', path: SYNC_PATHS.shops(gw) });
  if (r !== null && r.status === 404) {
    note(
      'shops.answer',
      errCode(r) === SYNC_REQUEST_ERRORS.notFound,
      `no shops endpoint: expected 404 {"error":{"code":"${SYNC_REQUEST_ERRORS.notFound}"}}, got ${show(r)}`,
    );
  } else if (r !== null && r.status === 200) {
    const s = readShops(r.body);
    note('shops.answer', s.ok, s.ok ? `${s.value.shops.length} shop(s)` : s.error);
  } else {
    note('shops.answer', false, `expected 200 with a ShopAuthorisations or 404 ${SYNC_REQUEST_ERRORS.notFound}, got ${show(r)}`);
  }
  return findings;
}

/** The findings as the CLI prints them: failures first, then what passed. */
export function formatFindings(findings: readonly Finding[]): string {
  const failed = findings.filter((f) => !f.ok);
  const lines = [
    ...failed.map((f) => `FAIL  ${f.check}: ${f.detail}`),
    ...findings.filter((f) => f.ok).map((f) => `ok    ${f.check}: ${f.detail}`),
    '',
    failed.length === 0
      ? `conformant: ${findings.length} checks passed`
      : `${failed.length} of ${findings.length} checks failed (docs/sync.md says what each one expects)`,
  ];
  return lines.join('\n');
}
