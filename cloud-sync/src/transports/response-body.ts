/**
 * Turns the bytes of an answer into {@link SyncResponse.body}: the parsed JSON value when the
 * content type says JSON (`application/json`, or a `+json` suffix type such as
 * `application/problem+json`, RFC 6839 §3.1), the text otherwise (also when JSON was declared
 * but does not parse, so the caller can report what came back), null when empty.
 */
/** Largest answer a transport accepts (a change page of 1000 orders is well below 1 MB). */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

const JSON_TYPE = /^\s*application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

export function isJsonContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && JSON_TYPE.test(contentType);
}

export function decodeResponseBody(bytes: Buffer, contentType: string | undefined): unknown {
  if (bytes.length === 0) return null;
  const text = bytes.toString('utf8');
  if (!isJsonContentType(contentType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
