/** UTF-8 byte budgets: the chat robots limit content in bytes, not characters. */

export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * The longest prefix of `s` that fits in `maxBytes` of UTF-8, cut on a code point boundary
 * (never inside a multi-byte sequence or between the halves of a surrogate pair).
 */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (utf8Length(s) <= maxBytes) return s;
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += ch.length;
  }
  return s.slice(0, end);
}

/**
 * `head + body + tail` within `maxBytes`: only the body is shortened (and marked), so the
 * headline and the suppression note survive a huge alert text.
 */
export function fitUtf8(head: string, body: string, tail: string, maxBytes: number, marker = '\n…(truncated)'): string {
  const whole = head + body + tail;
  if (utf8Length(whole) <= maxBytes) return whole;
  const room = maxBytes - utf8Length(head) - utf8Length(tail) - utf8Length(marker);
  if (room < 0) return truncateUtf8(whole, maxBytes);
  return head + truncateUtf8(body, room) + marker + tail;
}
