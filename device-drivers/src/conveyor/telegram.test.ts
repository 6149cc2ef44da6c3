import { describe, expect, it } from 'vitest';
import { bytewise, cat, randomSplits } from '../scale/testing/decoder-contract.js';
import fc from 'fast-check';
import { DWS_DEFINITIONS, dwsDefinition } from './definitions.js';
import { type ParcelTelegram, TelegramCodec, type TelegramResult, type TelegramTemplate } from './telegram.js';

const stx = new TelegramCodec(dwsDefinition('generic-dws-stx-semicolon').telegram);
const fixed = new TelegramCodec(dwsDefinition('generic-dws-fixed-crlf').telegram);
const text = (u: Uint8Array) => Buffer.from(u).toString('latin1');
const ok = <T>(r: TelegramResult<T>) => (r.ok ? r.value : `!${r.detail['reason']}`);

describe('DWS telegram template: parcel telegrams (line → gateway)', () => {
  it('parses an annotated STX/ETX semicolon telegram', () => {
    const bytes = cat(
      Uint8Array.of(0x02), // STX
      '000123;', // seq
      '4006381333931;', // barcode
      '1.234;', // weight kg, 3 decimals
      '300;200;150', // L;W;H mm
      Uint8Array.of(0x03), // ETX
    );
    expect(stx.createDecoder('parcel').push(bytes)).toEqual([
      {
        ok: true,
        value: { seq: 123, barcode: '4006381333931', grams: 1234, lengthMm: 300, widthMm: 200, heightMm: 150 },
        raw: '000123;4006381333931;1.234;300;200;150',
      },
    ]);
  });

  it('parses an annotated fixed-width CR LF telegram', () => {
    const line = `DWS0042${'SF1234567890'.padEnd(20)}002500041003050099\r\n`;
    //           literal  seq(4)  barcode(20, space padded)      grams(6)  L(4)    W(4)    H(4)
    expect(fixed.createDecoder('parcel').push(Buffer.from(line))).toEqual([
      { ok: true, value: { seq: 42, barcode: 'SF1234567890', grams: 2500, lengthMm: 410, widthMm: 305, heightMm: 99 }, raw: line.slice(0, -2) },
    ]);
  });

  it('maps no-read markers to null and missing dimensions to absent', () => {
    for (const marker of ['NOREAD', '?????', '']) {
      expect(ok(stx.parseParcel(`7;${marker};0.500;NODIM;NODIM;-----`))).toEqual({ seq: 7, barcode: null, grams: 500 });
    }
    expect(ok(fixed.parseParcel(`DWS0001${'?'.repeat(20)}000100${'----'.repeat(3)}`))).toEqual({ seq: 1, barcode: null, grams: 100 });
  });

  it('converts kg and cm exactly enough (no float residue)', () => {
    const t: TelegramTemplate = {
      framing: 'lf',
      separator: ',',
      parcel: [
        { field: 'seq' },
        { field: 'barcode' },
        { field: 'weight', unit: 'kg' },
        { field: 'length', unit: 'cm' },
        { field: 'width', unit: 'cm' },
        { field: 'height', unit: 'cm' },
      ],
      reply: [{ field: 'seq' }, { field: 'chute' }],
    };
    expect(ok(new TelegramCodec(t).parseParcel('1,A,0.1,10.25,0.04,3'))).toEqual({ seq: 1, barcode: 'A', grams: 100, lengthMm: 103, widthMm: 0, heightMm: 30 });
  });

  it('refuses malformed telegrams with PKL_FRAME_INVALID and a reason', () => {
    const reasons = [
      '1;A;1.0;1;1', // field count
      'x;A;1.0;1;1;1', // seq
      '99999999999;A;1;1;1;1', // seq > 2^32-1
      '1;A;heavy;1;1;1', // weight
      '1;A;600;1;1;1', // 600 kg
      '1;A;1;-5;1;1', // negative length
      '1;Grüße;1;1;1;1', // barcode not ASCII
    ].map((b) => ok(stx.parseParcel(b)));
    expect(reasons).toEqual([
      '!5 fields, template has 6',
      '!seq "x" is not an integer 0..4294967295',
      '!seq "99999999999" is not an integer 0..4294967295',
      '!weight "heavy" is not a number',
      '!weight 600 kg is out of range',
      '!length -5 mm is out of range 0..10000 mm',
      '!barcode has characters outside printable ASCII/GS or is over 128 long',
    ]);
    expect(ok(fixed.parseParcel('DWX0001'))).toBe('!7 characters, fixed-width template has 45');
    expect(ok(fixed.parseParcel(`XYZ${'0'.repeat(42)}`))).toBe('!expected "DWS" at field 1, got "XYZ"');
    expect(stx.parseParcel('1;A')).toMatchObject({ ok: false, code: 'PKL_FRAME_INVALID', detail: { protocol: 'dws-telegram' } });
  });

  it('round-trips parcels through encode and parse', () => {
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.integer({ min: 0, max: 999_999 }),
          barcode: fc.option(fc.stringMatching(/^[A-Z0-9]{1,20}$/), { nil: null }),
          grams: fc.integer({ min: 0, max: 99_999 }),
          lengthMm: fc.integer({ min: 0, max: 9999 }),
          widthMm: fc.integer({ min: 0, max: 9999 }),
          heightMm: fc.integer({ min: 0, max: 9999 }),
        }),
        (p: ParcelTelegram) => {
          for (const codec of [stx, fixed]) {
            const q = { ...p, seq: codec === fixed ? p.seq % 10_000 : p.seq };
            expect(codec.createDecoder('parcel').push(codec.encodeParcel(q))).toEqual([expect.objectContaining({ ok: true, value: q })]);
          }
        },
      ),
      { numRuns: 100, seed: 3 },
    );
  });
});

describe('DWS telegram template: reply telegrams (gateway → line)', () => {
  it('encodes golden bytes', () => {
    expect(text(stx.encodeReply({ seq: 123, chute: 'C07' }))).toBe('\x02000123;C07\x03');
    expect(text(fixed.encodeReply({ seq: 42, chute: '7' }))).toBe('DST0042' + '7  ' + '\r\n');
    expect(ok(fixed.parseReply('DST0042007'))).toEqual({ seq: 42, chute: '007' });
  });

  it('refuses values that do not fit with PKL_PAYLOAD_INVALID', () => {
    expect(() => fixed.encodeReply({ seq: 42, chute: 'LONG' })).toThrow(expect.objectContaining({ code: 'PKL_PAYLOAD_INVALID' }));
    expect(() => fixed.encodeReply({ seq: 10_000, chute: '1' })).toThrow(expect.objectContaining({ code: 'PKL_PAYLOAD_INVALID' }));
    expect(() => stx.encodeReply({ seq: 1, chute: 'A;B' })).toThrow(expect.objectContaining({ code: 'PKL_PAYLOAD_INVALID' }));
    expect(() => stx.encodeReply({ seq: 1, chute: '' })).toThrow(expect.objectContaining({ code: 'PKL_PAYLOAD_INVALID' }));
    expect(stx.replyProblem({ seq: 1, chute: 'C\x03' })).toMatch(/printable/);
  });
});

describe('DWS telegram stream', () => {
  const good = (seq: number) => stx.encodeParcel({ seq, barcode: `B${seq}`, grams: 1000, lengthMm: 1, widthMm: 2, heightMm: 3 });
  const seqs = (rs: TelegramResult<ParcelTelegram>[]) => rs.map((r) => (r.ok ? r.value.seq : r.code));

  it('reports a truncated telegram, garbage and a bad body, then carries on; keep-alives are skipped', () => {
    const stream = cat(good(1), '\x02000002;B2;1.0', good(3), 'garbage', good(4), '\x02HB\x03', '\x02bad\x03', good(5));
    expect(seqs(stx.createDecoder('parcel').push(stream))).toEqual([1, 'PKL_FRAME_INVALID', 3, 'PKL_FRAME_INVALID', 4, 'PKL_FRAME_INVALID', 5]);
  });

  it('gives the same telegrams whole, byte by byte and in random splits; bounded buffer', () => {
    const stream = cat(good(1), '\r\n', good(2), '\x02000003;B', good(4), 'noise\x03', good(5));
    const whole = stx.createDecoder('parcel').push(stream);
    expect(seqs(whole)).toEqual([1, 2, 'PKL_FRAME_INVALID', 4, 'PKL_FRAME_INVALID', 5]);
    for (const chunks of [bytewise(stream), randomSplits(stream, 5, 9), randomSplits(stream, 6, 30)]) {
      const d = stx.createDecoder('parcel');
      expect(chunks.flatMap((c) => d.push(c))).toEqual(whole);
    }
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        for (const codec of [stx, fixed]) {
          const d = codec.createDecoder('parcel');
          for (const c of chunks) {
            d.push(c);
            expect(d.bufferedBytes).toBeLessThanOrEqual(codec.maxLength + 1);
          }
        }
      }),
      { numRuns: 100, seed: 9 },
    );
  });
});

describe('DWS definitions and template validation', () => {
  it('every shipped definition compiles and can encode its default chute', () => {
    for (const d of DWS_DEFINITIONS) {
      const codec = new TelegramCodec(d.telegram);
      expect(codec.replyProblem({ seq: 1, chute: d.defaultChute })).toBeNull();
    }
    expect(new Set(DWS_DEFINITIONS.map((d) => d.id)).size).toBe(DWS_DEFINITIONS.length);
    expect(() => dwsDefinition('nope')).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
  });

  it('refuses templates that cannot work with PKL_CONFIG_INVALID', () => {
    const base: TelegramTemplate = {
      framing: 'crlf',
      separator: ';',
      parcel: [{ field: 'seq' }, { field: 'barcode' }],
      reply: [{ field: 'seq' }, { field: 'chute' }],
    };
    const bad: TelegramTemplate[] = [
      { ...base, parcel: [{ field: 'barcode' }] }, // no seq
      { ...base, reply: [{ field: 'seq' }] }, // no chute
      { ...base, separator: undefined }, // fixed width without widths
      { ...base, separator: '\r' },
      { ...base, framing: 'xml' as 'lf' },
      { ...base, parcel: [...base.parcel, { field: 'weight', unit: 'lb' as 'g' }] },
      { ...base, parcel: [...base.parcel, { field: 'literal', text: 'a;b' }] },
    ];
    for (const t of bad) expect(() => new TelegramCodec(t)).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
  });

  // Found by `npm run fuzz` (dws-telegrams, seed 1 #119): a null field entry or a non-list
  // noRead/noValue threw a TypeError out of the constructor instead of PKL_CONFIG_INVALID.
  it('refuses malformed templates from a file with PKL_CONFIG_INVALID, never a TypeError', () => {
    const base = { framing: 'lf', separator: '\t', reply: [{ field: 'seq' }, { field: 'chute' }] };
    const bad: unknown[] = [
      { ...base, parcel: [null, 143885458] },
      { ...base, parcel: [{ field: 'seq' }, { field: 'barcode' }, true, null] },
      { ...base, parcel: [{ field: 'seq' }, { field: 'barcode' }, ['x']] },
      { ...base, parcel: [{ field: 'seq' }, { field: 'barcode' }], noRead: true },
      { ...base, parcel: [{ field: 'seq' }, { field: 'barcode' }], noValue: { x: 1 } },
    ];
    for (const t of bad) expect(() => new TelegramCodec(t as TelegramTemplate)).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
  });
});
