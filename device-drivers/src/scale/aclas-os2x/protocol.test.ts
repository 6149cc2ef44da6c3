import { describe, expect, it } from 'vitest';
import { cat, decoderContract, feed, thrownCode } from '../testing/decoder-contract.js';
import { AclasOs2xDecoder, aclasOs2xProtocol, aclasXor, encodeAclasFrame, encodeAclasModeSwitch } from './protocol.js';

/** docs/devices/scales.md generator output: 1.234 kg stable, active mode. */
const FRAME = Buffer.from([
  0x01, // SOH
  0x02, // STX
  0x53, // Flag1 'S' stable
  0x20, // sign ' ' (positive)
  0x20,
  0x31,
  0x2e,
  0x32,
  0x33,
  0x34, // weight " 1.234"
  0x6b,
  0x67, // unit "kg"
  0x76, // XOR of bytes 0..11
  0x03, // ETX
  0x04, // EOT
  0x00, // Flag2
]);

const decode = (...parts: Array<Uint8Array | string>) => feed(new AclasOs2xDecoder(), [cat(...parts)]);

describe('Aclas OS2X decoder', () => {
  it('decodes the reference active-mode frame', () => {
    expect(aclasXor(FRAME)).toBe(0x76);
    expect(decode(FRAME)).toEqual([{ type: 'weight', grams: 1234, stable: true, net: false, raw: '\\x01\\x02S  1.234kgv\\x03\\x04\\x00' }]);
  });

  it('decodes unstable, negative, tare and out-of-range frames', () => {
    expect(decode(encodeAclasFrame({ flag1: 'U', negative: true, weight: '0.500', unit: 'kg', flag2: 0x20 }))[0]).toMatchObject({
      grams: -500,
      stable: false,
      net: true,
    });
    expect(decode(encodeAclasFrame({ flag1: 'S', negative: false, weight: '750', unit: ' g', flag2: 0x10 }))[0]).toMatchObject({ grams: 750 });
    expect(decode(encodeAclasFrame({ flag1: 'F', negative: false, weight: '------', unit: 'kg', flag2: 0x40 }))[0]).toMatchObject({
      type: 'status',
      outOfRange: true,
    });
    expect(decode(encodeAclasFrame({ flag1: 'S', negative: false, weight: '1.000', unit: 'zz', flag2: 0 }))[0]).toMatchObject({
      code: 'PKL_FRAME_UNIT_UNKNOWN',
    });
    expect(decode(encodeAclasFrame({ flag1: 'S', negative: false, weight: '1.0.0', unit: 'kg', flag2: 0 }))[0]).toMatchObject({
      code: 'PKL_FRAME_INVALID',
    });
  });

  it('reports a checksum error and decodes the next frame', () => {
    const bad = Uint8Array.from(FRAME);
    bad[12] = 0x77;
    expect(decode(bad, FRAME)).toEqual([
      expect.objectContaining({ code: 'PKL_FRAME_CHECKSUM', detail: { protocol: 'aclas-os2x', expected: '0x76', actual: '0x77' } }),
      expect.objectContaining({ type: 'weight', grams: 1234 }),
    ]);
  });

  it('reports a truncated frame and resyncs on the SOH STX inside it', () => {
    expect(decode('\x05junk\x01', FRAME.subarray(0, 7), FRAME, FRAME).map((f) => f.type)).toEqual(['error', 'weight', 'weight']);
  });

  it('passive mode: ACK to ENQ surfaces at once, DC1 answers are 15 bytes without Flag2', () => {
    const d = aclasOs2xProtocol.createDecoder({ mode: 'passive' });
    expect(d.push(Uint8Array.of(0x06))).toEqual([{ type: 'reply', command: 'ENQ', status: 'done', raw: '\\x06' }]);
    const passive = FRAME.subarray(0, 15);
    expect(feed(d, [passive])).toEqual([{ type: 'weight', grams: 1234, stable: true, raw: '\\x01\\x02S  1.234kgv\\x03\\x04' }]);
    expect(feed(d, [cat(Buffer.from([0x06]), passive)]).map((f) => f.type)).toEqual(['reply', 'weight']);
  });

  it('encodes ENQ, DC1, <ZK>\\t, <TK>\\t and mode switches (golden bytes)', () => {
    expect([...aclasOs2xProtocol.encode('enquire')]).toEqual([0x05]);
    expect([...aclasOs2xProtocol.encode('weigh')]).toEqual([0x11]);
    expect([...aclasOs2xProtocol.encode('zero')]).toEqual([0x3c, 0x5a, 0x4b, 0x3e, 0x09]);
    expect([...aclasOs2xProtocol.encode('tare')]).toEqual([0x3c, 0x54, 0x4b, 0x3e, 0x09]);
    expect(Buffer.from(encodeAclasModeSwitch('passive')).toString('latin1')).toBe('<AL>\t');
    expect(Buffer.from(encodeAclasModeSwitch('active')).toString('latin1')).toBe('<PB>\t');
    expect(thrownCode(() => aclasOs2xProtocol.encode('clearTare'))).toBe('PKL_SCALE_COMMAND_UNSUPPORTED');
    expect(thrownCode(() => aclasOs2xProtocol.createDecoder({ mode: 'push' }))).toBe('PKL_CONFIG_INVALID');
  });

  decoderContract({
    create: () => aclasOs2xProtocol.createDecoder(),
    stream: cat(FRAME, 'zz', encodeAclasFrame({ flag1: 'U', negative: false, weight: '2.5', unit: 'kg', flag2: 0 }), FRAME.subarray(0, 4), FRAME),
    maxBuffered: 17,
    frame: FRAME,
  });
  describe('passive mode', () => {
    decoderContract({
      create: () => aclasOs2xProtocol.createDecoder({ mode: 'passive' }),
      stream: cat('\x06', FRAME.subarray(0, 15), 'n', '\x06', FRAME.subarray(0, 9), FRAME.subarray(0, 15)),
      maxBuffered: 16,
    });
  });
});
