import { describe, expect, it } from 'vitest';
import {
  attr,
  decodeMessage,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  findAttribute,
  GroupTag,
  ValueTag,
  type IppMessage,
} from './codec.js';

const ascii = (s: string) => [...Buffer.from(s, 'ascii')];
const u16 = (n: number) => [n >> 8, n & 0xff];

/** A Get-Printer-Attributes request exactly as RFC 8010 §3 lays it out. */
const GET_PRINTER_ATTRIBUTES = Buffer.from([
  0x01,
  0x01, // version-number 1.1 (§3.1.1)
  0x00,
  0x0b, // operation-id Get-Printer-Attributes (RFC 8011 §5.4.15)
  0x00,
  0x00,
  0x00,
  0x07, // request-id 7
  0x01, // operation-attributes-tag
  0x47,
  ...u16(18),
  ...ascii('attributes-charset'),
  ...u16(5),
  ...ascii('utf-8'), // charset
  0x48,
  ...u16(27),
  ...ascii('attributes-natural-language'),
  ...u16(5),
  ...ascii('en-us'), // naturalLanguage
  0x45,
  ...u16(11),
  ...ascii('printer-uri'),
  ...u16(28),
  ...ascii('ipp://localhost:631/ipp/print'.slice(0, 28)), // uri
  0x44,
  ...u16(20),
  ...ascii('requested-attributes'),
  ...u16(13),
  ...ascii('printer-state'), // keyword
  0x44,
  ...u16(0),
  ...u16(21),
  ...ascii('printer-state-reasons'), // additional value: empty name (§3.1.5)
  0x03, // end-of-attributes-tag
]);

/** A response with every scalar value type, one collection, and document-like trailing data. */
const SAMPLE: IppMessage = {
  version: [1, 1],
  code: 0x0000,
  requestId: 42,
  groups: [
    {
      tag: GroupTag.operation,
      attributes: [attr('attributes-charset', ValueTag.charset, 'utf-8'), attr('attributes-natural-language', ValueTag.naturalLanguage, 'en')],
    },
    {
      tag: GroupTag.printer,
      attributes: [
        attr('printer-state', ValueTag.enum, 3),
        attr('printer-state-reasons', ValueTag.keyword, 'media-low-report', 'toner-low-warning'),
        attr('printer-is-accepting-jobs', ValueTag.boolean, true),
        attr('queued-job-count', ValueTag.integer, -5),
        attr('printer-resolution-default', ValueTag.resolution, { kind: 'resolution', x: 203, y: 203, units: 3 }),
        attr('copies-supported', ValueTag.rangeOfInteger, { kind: 'range', lower: 1, upper: 999 }),
        attr('printer-info', ValueTag.textWithLanguage, { kind: 'withLanguage', language: 'zh-cn', text: '标签打印机' }),
        attr('printer-name', ValueTag.nameWithLanguage, { kind: 'withLanguage', language: 'en', text: 'Label' }),
        attr('printer-current-time', ValueTag.dateTime, Uint8Array.from([0x07, 0xea, 11, 26, 19, 20, 0, 0, 0x2b, 0, 0])),
        attr('printer-uuid', ValueTag.octetString, Uint8Array.from([0, 255, 1])),
        attr('document-format-supported', ValueTag.mimeMediaType, 'application/octet-stream', 'text/plain'),
        attr('printer-location', ValueTag.text, 'Dock 3'),
        attr('printer-more-info', ValueTag.uri, 'http://localhost/'),
        attr('media-col-default', ValueTag.begCollection, {
          kind: 'collection',
          members: [
            attr('media-type', ValueTag.keyword, 'labels'),
            attr('media-size', ValueTag.begCollection, {
              kind: 'collection',
              members: [attr('x-dimension', ValueTag.integer, 10160), attr('y-dimension', ValueTag.integer, 15240)],
            }),
          ],
        }),
        attr('printer-alert', ValueTag.unknown, null),
        attr('printer-geo-location', ValueTag.name, 'after-collection'),
      ],
    },
  ],
  data: new Uint8Array(0),
};

describe('IPP codec (RFC 8010 §3)', () => {
  it('decodes the annotated Get-Printer-Attributes request', () => {
    const r = decodeRequest(GET_PRINTER_ATTRIBUTES);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.message.version).toEqual([1, 1]);
    expect(r.message.code).toBe(0x0b);
    expect(r.message.requestId).toBe(7);
    expect(findAttribute(r.message, 'requested-attributes')?.values).toEqual(['printer-state', 'printer-state-reasons']);
    expect(r.message.data.length).toBe(0);
  });

  it('encodes the same request to the same bytes', () => {
    const bytes = encodeRequest({
      operation: 0x0b,
      requestId: 7,
      groups: [
        {
          tag: GroupTag.operation,
          attributes: [
            attr('attributes-charset', ValueTag.charset, 'utf-8'),
            attr('attributes-natural-language', ValueTag.naturalLanguage, 'en-us'),
            attr('printer-uri', ValueTag.uri, 'ipp://localhost:631/ipp/print'.slice(0, 28)),
            attr('requested-attributes', ValueTag.keyword, 'printer-state', 'printer-state-reasons'),
          ],
        },
      ],
    });
    expect(bytes.equals(GET_PRINTER_ATTRIBUTES)).toBe(true);
  });

  it('round-trips every value type, multi-values and nested collections', () => {
    const bytes = encodeResponse({ status: SAMPLE.code, requestId: SAMPLE.requestId, groups: SAMPLE.groups });
    const r = decodeResponse(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.message.groups).toEqual(SAMPLE.groups);
    expect(encodeResponse({ status: r.message.code, requestId: r.message.requestId, groups: r.message.groups }).equals(bytes)).toBe(true);
  });

  it('passes a binary document with every byte value through unchanged', () => {
    const doc = Buffer.alloc(256 * 4);
    for (let i = 0; i < doc.length; i++) doc[i] = i % 256;
    const bytes = encodeRequest({
      operation: 0x02,
      requestId: 1,
      groups: [{ tag: GroupTag.operation, attributes: [attr('job-name', ValueTag.name, 'bin')] }],
      data: doc,
    });
    const r = decodeRequest(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Buffer.from(r.message.data).equals(doc)).toBe(true);
    // The document could contain 0x03 etc.; the decoder must stop at the FIRST end-of-attributes.
    expect(r.message.groups[0]?.attributes).toHaveLength(1);
  });

  it('every truncation of a valid message is a coded PKL_FRAME_INVALID, never a throw', () => {
    const bytes = encodeResponse({ status: 0, requestId: 9, groups: SAMPLE.groups });
    for (let n = 0; n < bytes.length; n++) {
      const r = decodeMessage(bytes.subarray(0, n));
      expect(r.ok, `prefix of ${n} bytes`).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('PKL_FRAME_INVALID');
        expect(r.details['protocol']).toBe('IPP');
      }
    }
  });

  it.each([
    ['HTTP text instead of IPP', Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')],
    ['version 0.0', Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 0x03])],
    ['attribute before any group', Buffer.from([1, 1, 0, 0, 0, 0, 0, 1, 0x21, 0, 1, 0x61, 0, 4, 0, 0, 0, 1, 0x03])],
    ['additional value first', Buffer.from([1, 1, 0, 0, 0, 0, 0, 1, 0x01, 0x21, 0, 0, 0, 4, 0, 0, 0, 1, 0x03])],
    ['integer of 3 bytes', Buffer.from([1, 1, 0, 0, 0, 0, 0, 1, 0x01, 0x21, 0, 1, 0x61, 0, 3, 0, 0, 1, 0x03])],
    ['boolean 2', Buffer.from([1, 1, 0, 0, 0, 0, 0, 1, 0x01, 0x22, 0, 1, 0x61, 0, 1, 2, 0x03])],
    ['endCollection outside a collection', Buffer.from([1, 1, 0, 0, 0, 0, 0, 1, 0x01, 0x37, 0, 0, 0, 0, 0x03])],
    ['value length past the end', Buffer.from([1, 1, 0, 0, 0, 0, 0, 1, 0x01, 0x41, 0, 1, 0x61, 0xff, 0xff, 0x41])],
  ])('garbage: %s → PKL_FRAME_INVALID', (_what, bytes) => {
    const r = decodeMessage(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('PKL_FRAME_INVALID');
  });

  it('never throws on random bytes after a valid header', () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
    for (let i = 0; i < 500; i++) {
      const body = Array.from({ length: 1 + (rnd() % 64) }, rnd);
      expect(() => decodeMessage(Buffer.from([1, 1, 0, 0, 0, 0, 0, 1, 0x01, ...body]))).not.toThrow();
    }
  });

  it('refuses to encode values that do not fit their tag', () => {
    expect(() => encodeRequest({ operation: 2, requestId: 1, groups: [{ tag: 1, attributes: [attr('copies', ValueTag.integer, 'x')] }] })).toThrow(TypeError);
    expect(() => encodeRequest({ operation: 2, requestId: 1, groups: [{ tag: 1, attributes: [attr('a', ValueTag.text, 'x'.repeat(70_000))] }] })).toThrow(
      RangeError,
    );
  });
});
