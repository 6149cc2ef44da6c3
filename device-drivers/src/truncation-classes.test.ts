/**
 * The classes of defect that recorded captures found in the scanner and TSPL decoders, checked
 * on the remaining framed decoders (ZPL ~HS answers, DWS telegrams in every framing): a frame
 * without its terminator, trailing garbage after a valid frame, a second frame glued onto a
 * truncated first (every cut point). Fed whole and one byte at a time; never a wrong reading.
 * (Scale protocols run the same checks through decoderContract's `frame`; scanners in
 * scanner/cut-off-scans.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { dwsDefinition } from './conveyor/definitions.js';
import { TelegramCodec } from './conveyor/telegram.js';
import { encodeHostStatus, IDLE_HOST_STATUS, ZplStatusDecoder } from './printer/zpl/status.js';
import { bytewise, cat } from './scale/testing/decoder-contract.js';

interface Decoder<R> {
  push(chunk: Uint8Array): R[];
}

function checkClasses<R>(name: string, create: () => Decoder<R>, frame: Uint8Array, isReading: (r: R) => boolean): void {
  const run = (bytes: Uint8Array) => {
    const whole = create().push(bytes);
    const d = create();
    expect(bytewise(bytes).flatMap((c) => d.push(c))).toEqual(whole);
    return whole.filter(isReading).map((r) => JSON.stringify(r, (k, v) => (k === 'raw' ? undefined : v)));
  };
  describe(name, () => {
    const expected = run(frame);
    it('the frame alone gives one reading', () => expect(expected).toHaveLength(1));
    it('no terminator (any cut) gives no reading', () => {
      for (let k = 1; k < frame.length; k++) expect(run(frame.subarray(0, k)), `cut after ${k}`).toEqual([]);
    });
    it('a frame glued onto a truncated first gives its own reading or none, never a mixed one', () => {
      for (let k = 1; k < frame.length; k++) {
        const got = run(cat(frame.subarray(0, k), frame));
        expect(got.length === 0 || JSON.stringify(got) === JSON.stringify(expected), `cut after ${k}: ${got.join()}`).toBe(true);
      }
    });
    it('trailing garbage after a valid frame adds or changes no reading', () => {
      for (const g of ['x', '\xff\x00', '\r\n', '\x02', frame.subarray(1)]) {
        expect(run(cat(frame, g))).toEqual(expected);
      }
    });
  });
}

// The answer ends with the ETX of string 3 (the CR LF after each ETX is filler between blocks).
const hs = encodeHostStatus(IDLE_HOST_STATUS);
checkClasses(
  'ZPL ~HS answer (three STX…ETX strings)',
  () => new ZplStatusDecoder(),
  hs.subarray(0, hs.lastIndexOf(0x03) + 1),
  (r) => r.type !== 'error',
);

for (const id of ['generic-dws-stx-semicolon', 'generic-dws-fixed-crlf'] as const) {
  const codec = new TelegramCodec(dwsDefinition(id).telegram);
  const frame = codec.encodeParcel({ seq: 7, barcode: 'SF1234567890', grams: 2500, lengthMm: 410, widthMm: 305, heightMm: 99 });
  checkClasses(
    `DWS parcel telegram (${id})`,
    () => codec.createDecoder('parcel'),
    frame,
    (r) => r.ok,
  );
}
