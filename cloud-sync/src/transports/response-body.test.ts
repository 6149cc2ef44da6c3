import { describe, expect, it } from 'vitest';
import { decodeResponseBody, isJsonContentType } from './response-body.js';

describe('decodeResponseBody', () => {
  it('parses JSON when the content type says so', () => {
    expect(decodeResponseBody(Buffer.from('{"acked_seq":7}'), 'application/json; charset=utf-8')).toEqual({ acked_seq: 7 });
    expect(decodeResponseBody(Buffer.from('{"title":"x"}'), 'application/problem+json')).toEqual({ title: 'x' });
  });

  it('returns text for other types and for JSON that does not parse', () => {
    expect(decodeResponseBody(Buffer.from('{"a":1}'), 'text/plain')).toBe('{"a":1}');
    expect(decodeResponseBody(Buffer.from('<html>bad gateway</html>'), 'application/json')).toBe('<html>bad gateway</html>');
    expect(decodeResponseBody(Buffer.from('plain'), undefined)).toBe('plain');
  });

  it('returns null for an empty body', () => {
    expect(decodeResponseBody(Buffer.alloc(0), 'application/json')).toBeNull();
  });

  it('recognises JSON media types only', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType(' Application/JSON ;charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/vnd.api+json')).toBe(true);
    expect(isJsonContentType('application/jsonx')).toBe(false);
    expect(isJsonContentType('text/json-ish')).toBe(false);
  });
});
