import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../../contracts/errors.js';
import { cat, decoderContract, feed, thrownCode } from '../testing/decoder-contract.js';
import { MT_SICS_MAX_LINE, MtSicsDecoder, encodeMtSicsCommand, mtSicsProtocol } from './protocol.js';

const decode = (...parts: Array<Uint8Array | string>) => feed(new MtSicsDecoder(), [cat(...parts)]);

describe('MT-SICS decoder', () => {
  it('decodes stable and dynamic weight lines (S / SI responses)', () => {
    const bytes = Buffer.from([
      0x53, /* S */ 0x20, 0x53, /* S = stable */ 0x20, 0x20, 0x20, 0x20, 0x20, 0x31, 0x30, 0x30, 0x2e, 0x30, 0x30,
      /* "100.00" right-aligned in 10 chars */ 0x20, 0x67 /* g */, 0x0d, /* CR */ 0x0a /* LF */,
    ]);
    expect(feed(new MtSicsDecoder(), [bytes])).toEqual([{ type: 'weight', grams: 100, stable: true, raw: 'S S     100.00 g' }]);
    expect(decode('S D      23.45 g\r\n')).toEqual([{ type: 'weight', grams: 23.45, stable: false, raw: 'S D      23.45 g' }]);
    expect(decode('S S     -1.234 kg\r\n')).toEqual([{ type: 'weight', grams: -1234, stable: true, raw: 'S S     -1.234 kg' }]);
    expect(decode('S S      2.500 lb\r\n')[0]).toMatchObject({ grams: 1133.980925 });
    // Some emulators answer SI with ID "SI" (docs/devices/scales.md): accepted.
    expect(decode('SI S 5 g\r\n')[0]).toMatchObject({ type: 'weight', grams: 5, stable: true });
  });

  it('decodes S/SI statuses I, +, - as replies', () => {
    expect(decode('S I\r\nS +\r\nS -\r\n')).toEqual([
      { type: 'reply', command: 'S', status: 'busy', raw: 'S I' },
      { type: 'reply', command: 'S', status: 'overload', raw: 'S +' },
      { type: 'reply', command: 'S', status: 'underload', raw: 'S -' },
    ]);
  });

  it('decodes zero/tare replies and other A-replies', () => {
    expect(decode('Z A\r\nZ I\r\nZ +\r\nT S     100.00 g\r\nT I\r\nTA A 10.00 g\r\nTAC A\r\nZI D\r\nI4 A "0123456789"\r\n')).toEqual([
      { type: 'reply', command: 'Z', status: 'done', raw: 'Z A' },
      { type: 'reply', command: 'Z', status: 'busy', raw: 'Z I' },
      { type: 'reply', command: 'Z', status: 'overload', raw: 'Z +' },
      { type: 'reply', command: 'T', status: 'done', grams: 100, raw: 'T S     100.00 g' },
      { type: 'reply', command: 'T', status: 'busy', raw: 'T I' },
      { type: 'reply', command: 'TA', status: 'done', grams: 10, raw: 'TA A 10.00 g' },
      { type: 'reply', command: 'TAC', status: 'done', raw: 'TAC A' },
      { type: 'reply', command: 'ZI', status: 'done', data: 'D', raw: 'ZI D' },
      { type: 'reply', command: 'I4', status: 'done', data: '"0123456789"', raw: 'I4 A "0123456789"' },
    ]);
  });

  it('decodes ES / ET / EL as device errors', () => {
    expect(decode('ES\r\nET\r\nEL\r\n')).toEqual([
      { type: 'device-error', reason: 'syntax', raw: 'ES' },
      { type: 'device-error', reason: 'transmission', raw: 'ET' },
      { type: 'device-error', reason: 'logical', raw: 'EL' },
    ]);
  });

  it('skips binary noise before a line and flags a garbled line, then recovers', () => {
    const frames = decode(Buffer.from([0x00, 0xff, 0x11]), 'S S 1 g\r\n', 'x#?!\r\n', 'S S 2 g\r\n');
    expect(frames).toEqual([
      { type: 'weight', grams: 1, stable: true, raw: 'S S 1 g' },
      { type: 'error', code: 'PKL_FRAME_INVALID', detail: { protocol: 'mt-sics', reason: 'not an MT-SICS response line' }, raw: 'x#?!' },
      { type: 'weight', grams: 2, stable: true, raw: 'S S 2 g' },
    ]);
  });

  it('reports an unknown unit with its own code', () => {
    expect(decode('S S 1.0 furlong\r\n')).toEqual([
      { type: 'error', code: 'PKL_FRAME_UNIT_UNKNOWN', detail: { protocol: 'mt-sics', unit: 'furlong' }, raw: 'S S 1.0 furlong' },
    ]);
  });

  it('cuts off an endless line with a coded error and keeps decoding', () => {
    const d = new MtSicsDecoder();
    const frames = feed(d, [new Uint8Array(MT_SICS_MAX_LINE + 10).fill(0x41), cat('\r\nS S 3 g\r\n')]);
    expect(frames.map((f) => f.type)).toEqual(['error', 'error', 'weight']);
    expect(frames[0]).toMatchObject({ code: 'PKL_FRAME_INVALID' });
    expect(frames[2]).toMatchObject({ grams: 3 });
  });

  it('holds a partial line until CR LF arrives', () => {
    const d = new MtSicsDecoder();
    expect(d.push(cat('S S   12'))).toEqual([]);
    expect(d.push(cat('.5 g\r'))).toEqual([]);
    expect(d.push(cat('\n'))).toEqual([{ type: 'weight', grams: 12.5, stable: true, raw: 'S S   12.5 g' }]);
  });

  decoderContract({
    create: () => mtSicsProtocol.createDecoder(),
    stream: cat(Buffer.from([0x00, 0xff]), 'S S     100.00 g\r\n', 'garbage\r\n', 'S D      23.45 g\r\nZ A\r\nES\r\nS +\r\nT S 1.5 kg\r\n'),
    maxBuffered: MT_SICS_MAX_LINE + 1,
    frame: cat('S S     100.00 g\r\n'),
  });
});

describe('MT-SICS encoder', () => {
  it('encodes S, SI, Z, T, TAC with CR LF (golden bytes)', () => {
    expect([...mtSicsProtocol.encode('weigh')]).toEqual([0x53, 0x0d, 0x0a]);
    expect([...mtSicsProtocol.encode('weighNow')]).toEqual([0x53, 0x49, 0x0d, 0x0a]);
    expect([...mtSicsProtocol.encode('zero')]).toEqual([0x5a, 0x0d, 0x0a]);
    expect([...mtSicsProtocol.encode('tare')]).toEqual([0x54, 0x0d, 0x0a]);
    expect([...mtSicsProtocol.encode('clearTare')]).toEqual([0x54, 0x41, 0x43, 0x0d, 0x0a]);
    expect(Buffer.from(encodeMtSicsCommand('TA 10.00 g')).toString('latin1')).toBe('TA 10.00 g\r\n');
  });

  it('refuses commands it does not have, and unsafe text', () => {
    expect(() => mtSicsProtocol.encode('enquire')).toThrow(PacklineError);
    expect(thrownCode(() => mtSicsProtocol.encode('enquire'))).toBe('PKL_SCALE_COMMAND_UNSUPPORTED');
    expect(() => encodeMtSicsCommand('S\r\nZ')).toThrow(TypeError);
    expect(thrownCode(() => mtSicsProtocol.createDecoder({ unit: 'kg' }))).toBe('PKL_CONFIG_INVALID');
  });
});
