import { describe, expect, it } from 'vitest';
import { encodeExtendedStatus, encodeHostStatus, HQES_ERROR, IDLE_HOST_STATUS, type ZplReply, ZplStatusDecoder } from './status.js';

const STX = 0x02;
const ETX = 0x03;
const CR = 0x0d;
const LF = 0x0a;
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/**
 * A `~HS` answer as captured from the printer simulator (docs/devices/printers.md), byte by byte:
 * three `<STX> … <ETX><CR><LF>` strings (ZPL II Guide, ~HS).
 */
const HS_IDLE = Uint8Array.from([
  STX,
  ...ascii('030,0,0,1245,000,0,0,0,000,0,0,0'),
  ETX,
  CR,
  LF, // String 1: aaa=030 b=0 (paper) c=0 (pause) dddd=1245 eee=000 …
  STX,
  ...ascii('000,0,0,0,0,2,4,0,00000000,1,000'),
  ETX,
  CR,
  LF, // String 2: o=0 (head) p=0 (ribbon) r=2 tear-off uuuuuuuu=0
  STX,
  ...ascii('1234,0'),
  ETX,
  CR,
  LF, //                             String 3: xxxx=1234 y=0
]);

/** Paper out (String 1 field b = 1), head open (String 2 field o = 1), 3 labels left (uuuuuuuu). */
const HS_FAULTED = Uint8Array.from([
  STX,
  ...ascii('030,1,0,1245,002,0,0,0,000,0,0,0'),
  ETX,
  CR,
  LF,
  STX,
  ...ascii('000,0,1,0,0,2,4,0,00000003,1,000'),
  ETX,
  CR,
  LF,
  STX,
  ...ascii('1234,0'),
  ETX,
  CR,
  LF,
]);

/** `~HQES` with media out + head open (group 1 = 0x00000005), no warnings (ZPL II Guide, ~HQ ES). */
const HQES_MEDIA_HEAD = Uint8Array.from([
  STX,
  CR,
  LF,
  ...ascii('PRINTER STATUS'),
  CR,
  LF,
  ...ascii('   ERRORS:         1 00000000 00000005'),
  CR,
  LF,
  ...ascii('   WARNINGS:       0 00000000 00000000'),
  CR,
  LF,
  ETX,
  CR,
  LF,
]);

function feed(bytes: Uint8Array, splits: number[]): ZplReply[] {
  const d = new ZplStatusDecoder();
  const out: ZplReply[] = [];
  let at = 0;
  for (const n of [...splits, bytes.length]) {
    out.push(...d.push(bytes.subarray(at, Math.min(bytes.length, at + n))));
    at = Math.min(bytes.length, at + n);
    if (at >= bytes.length) break;
  }
  return out;
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

describe('ZPL ~HS decoding', () => {
  it('decodes the idle answer field by field', () => {
    const [r, ...rest] = new ZplStatusDecoder().push(HS_IDLE);
    expect(rest).toEqual([]);
    expect(r).toEqual({ type: 'host-status', status: { ...IDLE_HOST_STATUS, printWidthMode: '4' } });
  });

  it('reads paper out, head open and the labels remaining', () => {
    const [r] = new ZplStatusDecoder().push(HS_FAULTED);
    if (r?.type !== 'host-status') throw new Error(`expected host-status, got ${JSON.stringify(r)}`);
    expect(r.status).toMatchObject({ paperOut: true, headOpen: true, ribbonOut: false, paused: false, formatsInBuffer: 2, labelsRemaining: 3 });
  });

  it('gives the same answer whatever the chunking (1-byte and seeded random splits)', () => {
    const whole = new ZplStatusDecoder().push(HS_FAULTED);
    expect(feed(HS_FAULTED, Array(HS_FAULTED.length).fill(1))).toEqual(whole);
    for (let seed = 1; seed <= 50; seed++) {
      const rnd = seeded(seed);
      const splits = Array.from({ length: 20 }, () => 1 + Math.floor(rnd() * 12));
      expect(feed(HS_FAULTED, splits)).toEqual(whole);
    }
  });

  it('skips garbage between answers and still decodes both', () => {
    const garbage = Uint8Array.from([0xff, 0x00, ...ascii('noise'), CR, LF]);
    const bytes = Uint8Array.from([...garbage, ...HS_IDLE, ...garbage, ...HS_FAULTED]);
    const out = new ZplStatusDecoder().push(bytes);
    expect(out.map((r) => r.type)).toEqual(['host-status', 'host-status']);
  });

  it('reports a malformed string 1 with a coded error and resyncs on the next answer', () => {
    const bad = Uint8Array.from([STX, ...ascii('030,X,0,1245,000,0,0,0,000,0,0,0'), ETX, CR, LF]); // b must be 0/1
    const out = new ZplStatusDecoder().push(Uint8Array.from([...bad, ...HS_IDLE]));
    expect(out[0]).toMatchObject({ type: 'error', code: 'PKL_FRAME_INVALID', details: { protocol: 'zpl-status', reason: 'b (paper out) is not a 0/1 flag' } });
    expect(out.at(-1)?.type).toBe('host-status');
  });

  it('refuses string 2 without string 1, and a block with the wrong field count', () => {
    const s2only = Uint8Array.from([STX, ...ascii('000,0,0,0,0,2,4,0,00000000,1,000'), ETX]);
    const five = Uint8Array.from([STX, ...ascii('1,2,3,4,5'), ETX]);
    const out = new ZplStatusDecoder().push(Uint8Array.from([...s2only, ...five]));
    expect(out.map((r) => (r.type === 'error' ? r.details['reason'] : r.type))).toEqual([
      '~HS string 2 without string 1',
      'block with 5 fields is neither a ~HS string nor ~HQES',
    ]);
  });

  it('reports an answer cut short by the next STX (lost bytes) and decodes the one after', () => {
    const cut = HS_IDLE.subarray(0, 20); // STX + 19 bytes of string 1, no ETX
    const out = new ZplStatusDecoder().push(Uint8Array.from([...cut, ...HS_IDLE]));
    expect(out[0]).toMatchObject({ type: 'error', code: 'PKL_FRAME_INVALID' });
    expect(out.at(-1)?.type).toBe('host-status');
  });

  it('reports a ~HS answer that stops after string 1 when a new answer starts', () => {
    const s1 = HS_IDLE.subarray(0, HS_IDLE.indexOf(LF) + 1);
    const out = new ZplStatusDecoder().push(Uint8Array.from([...s1, ...HS_FAULTED]));
    expect(out.map((r) => r.type)).toEqual(['error', 'host-status']);
    expect(out[1]).toMatchObject({ status: { paperOut: true } });
  });

  it('keeps its buffer bounded on an endless block without ETX', () => {
    const d = new ZplStatusDecoder();
    const out: ZplReply[] = [];
    for (let i = 0; i < 100; i++) out.push(...d.push(Uint8Array.from([STX, ...Array(100).fill(0x31)])));
    expect(d.bufferedBytes).toBeLessThan(300);
    expect(out.every((r) => r.type === 'error')).toBe(true);
  });

  it('round-trips through the encoder (the simulator answers with it)', () => {
    const status = { ...IDLE_HOST_STATUS, paperOut: true, ribbonOut: true, formatsInBuffer: 7, labelsRemaining: 12345678, partialFormat: true };
    expect(new ZplStatusDecoder().push(encodeHostStatus(status))).toEqual([{ type: 'host-status', status }]);
    expect(Buffer.from(encodeHostStatus(IDLE_HOST_STATUS)).toString('latin1')).toBe(
      '\x02030,0,0,1245,000,0,0,0,000,0,0,0\x03\r\n\x02000,0,0,0,0,2,4,0,00000000,1,000\x03\r\n\x021234,0\x03\r\n',
    );
  });
});

describe('ZPL ~HQES decoding', () => {
  it('decodes the error group bits', () => {
    const [r] = new ZplStatusDecoder().push(HQES_MEDIA_HEAD);
    expect(r).toEqual({ type: 'extended-status', status: { errors: HQES_ERROR.mediaOut | HQES_ERROR.headOpen, errors2: 0, warnings: 0, warnings2: 0 } });
  });

  it('decodes split byte by byte, between ~HS answers', () => {
    const all = Uint8Array.from([...HS_IDLE, ...HQES_MEDIA_HEAD, ...HS_FAULTED]);
    expect(feed(all, Array(all.length).fill(1)).map((r) => r.type)).toEqual(['host-status', 'extended-status', 'host-status']);
  });

  it('refuses an answer whose flag contradicts its bits', () => {
    const text = Buffer.from(HQES_MEDIA_HEAD).toString('latin1').replace('ERRORS:         1', 'ERRORS:         0');
    const [r] = new ZplStatusDecoder().push(Buffer.from(text, 'latin1'));
    expect(r).toMatchObject({ type: 'error', code: 'PKL_FRAME_INVALID', details: { reason: 'ERRORS flag contradicts the error bits' } });
  });

  it('round-trips through the encoder', () => {
    const s = { errors: HQES_ERROR.ribbonOut, errors2: 0, warnings: 0x8, warnings2: 0 };
    expect(new ZplStatusDecoder().push(encodeExtendedStatus(s))).toEqual([{ type: 'extended-status', status: s }]);
    expect(Buffer.from(encodeExtendedStatus({ errors: 5, errors2: 0, warnings: 0, warnings2: 0 }))).toEqual(Buffer.from(HQES_MEDIA_HEAD));
  });
});
