import { describe, expect, it } from 'vitest';
import { cat, decoderContract, feed, thrownCode } from '../testing/decoder-contract.js';
import { GenericLineDecoder, ST_GS_PROFILE, compileLineProfile, genericLineProtocol } from './protocol.js';

const stgs = () => new GenericLineDecoder(compileLineProfile(ST_GS_PROFILE));
const decode = (...parts: Array<Uint8Array | string>) => feed(stgs(), [cat(...parts)]);

describe('generic line decoder, ST,GS profile', () => {
  it('decodes the indicator line format', () => {
    const bytes = Buffer.from([
      0x53, 0x54, /* "ST" stable */ 0x2c, 0x47, 0x53, /* "GS" gross */ 0x2c, 0x2b /* '+' */, 0x20, 0x20, 0x31, 0x2e, 0x32, 0x33, 0x34, /* "  1.234" */ 0x6b,
      0x67, /* "kg" */ 0x0d, 0x0a /* CR LF */,
    ]);
    expect(feed(stgs(), [bytes])).toEqual([{ type: 'weight', grams: 1234, stable: true, net: false, raw: 'ST,GS,+  1.234kg' }]);
    expect(decode('US,NT,-  0.250kg\r\n')[0]).toEqual({ type: 'weight', grams: -250, stable: false, net: true, raw: 'US,NT,-  0.250kg' });
    expect(decode('ST,GS,+0001.50lb\r\n')[0]).toMatchObject({ grams: 680.388555 }); // A&D 18-byte shape
    expect(decode('OL,GS,+        \r\n')[0]).toEqual({ type: 'status', stable: false, overload: true, net: false, raw: 'OL,GS,+        ' });
  });

  it('flags lines that do not match, unknown units and noise, then recovers', () => {
    const frames = decode('\x00\xffST,GS,+1.0kg\r\n', 'hello\r\n', 'ST,GS,+1.0\r\n', 'ST,GS,+2kg\r\n');
    expect(frames).toEqual([
      expect.objectContaining({ type: 'weight', grams: 1000 }),
      { type: 'error', code: 'PKL_FRAME_INVALID', detail: { protocol: 'generic-line', reason: 'line does not match the profile pattern' }, raw: 'hello' },
      expect.objectContaining({ code: 'PKL_FRAME_UNIT_UNKNOWN' }),
      expect.objectContaining({ type: 'weight', grams: 2000 }),
    ]);
  });

  it('cuts off a line longer than maxLength', () => {
    const frames = decode('A'.repeat(70), '\r\nST,GS,+3kg\r\n');
    expect(frames.map((f) => f.type)).toEqual(['error', 'error', 'weight']);
  });

  decoderContract({
    create: () => genericLineProtocol.createDecoder(ST_GS_PROFILE),
    stream: cat('ST,GS,+  1.234kg\r\n', 'junk\r\n', 'US,NT,-0.5kg\r\n', '\xff', 'OL,GS,+   \r\n', 'ST,GS,+1kg\r\n'),
    maxBuffered: 65,
    frame: cat('ST,GS,+  1.234kg\r\n'),
  });
});

describe('generic line profiles from data', () => {
  it('supports a grams group, LF lines, a default unit and stability from equal readings', () => {
    const d = genericLineProtocol.createDecoder({
      pattern: '^W:(?<grams>-?\\d+)$',
      delimiter: 'lf',
      stability: { samples: 2, toleranceGrams: 1 },
    });
    expect(feed(d, [cat('W:100\nW:101\nW:150\n')]).map((f) => f.type === 'weight' && [f.grams, f.stable])).toEqual([
      [100, false],
      [101, true],
      [150, false],
    ]);
    const dahua = genericLineProtocol.createDecoder({ pattern: '\\+(?<weight>[0-9.]+)', unit: 'kg', delimiter: 'cr' });
    expect(feed(dahua, [cat('+1.5\r')])[0]).toMatchObject({ grams: 1500 });
  });

  it('uses the sign group and custom tokens', () => {
    const d = genericLineProtocol.createDecoder({
      pattern: '^(?<stable>[SU]) (?<sign>[ -])(?<weight>[0-9.]+) ?(?<unit>\\w+)$',
      stableTokens: ['S'],
    });
    expect(feed(d, [cat('S -1.5 lb\r\nU  2 oz\r\n')]).map((f) => f.type === 'weight' && [f.grams, f.stable])).toEqual([
      [-680.388555, true],
      [56.699046, false], // 2 oz, rounded to micrograms
    ]);
  });

  it('encodes configured commands and refuses others', () => {
    const options = { ...ST_GS_PROFILE, commands: { zero: 'MZ\r\n', tare: 'MT\r\n' } };
    expect([...genericLineProtocol.encode('zero', options)]).toEqual([0x4d, 0x5a, 0x0d, 0x0a]);
    expect(thrownCode(() => genericLineProtocol.encode('clearTare', options))).toBe('PKL_SCALE_COMMAND_UNSUPPORTED');
  });

  it('refuses bad profiles with PKL_CONFIG_INVALID', () => {
    for (const bad of [
      {},
      { pattern: '(' },
      { pattern: '(?<stable>ST)' }, // no weight/grams group
      { pattern: '(?<weight>\\d+)' }, // no unit
      { pattern: '(?<weight>\\d+)(?<grams>\\d+)', unit: 'kg' },
      { pattern: '(?<weight>\\d+)', unit: 'stone' },
      { pattern: '(?<grams>\\d+)', flags: 'g' },
      { pattern: '(?<grams>\\d+)', delimiter: 'tab' },
      { pattern: '(?<grams>\\d+)', maxLength: 1e6 },
      { pattern: '(?<grams>\\d+)', stableTokens: 'ST' },
      { pattern: '(?<grams>\\d+)', commands: { explode: 'X' } },
      { pattern: '(?<grams>\\d+)', colour: 'red' },
    ]) {
      expect(thrownCode(() => genericLineProtocol.createDecoder(bad))).toBe('PKL_CONFIG_INVALID');
    }
  });
});
