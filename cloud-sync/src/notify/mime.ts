/**
 * The small part of Internet Message Format and MIME an alert e-mail needs:
 * RFC 5322 dates, mailboxes and header folding, RFC 2047 encoded-words for non-ASCII header
 * text, and RFC 2045 quoted-printable bodies. Everything produced here is 7-bit ASCII, so
 * any SMTP server relays it without 8BITMIME or SMTPUTF8.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * RFC 5322 §3.3 date-time in UTC, `Thu, 26 Nov 2026 06:03:05 +0000`. Not Date#toUTCString:
 * its "GMT" is an obsolete zone (§4.3) that must not be generated.
 */
export function rfc5322Date(ms: number): string {
  const d = new Date(ms);
  return (
    `${DAYS[d.getUTCDay()]}, ${pad2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`
  );
}

/** Lines of encoded text should stay within 76 characters (RFC 2047 §2, RFC 2045 §6.7 rule 5). */
const MAX_ENCODED_LINE = 76;
/** "=?UTF-8?B?" + "?=" (RFC 2047 §2: encoded-word = "=?" charset "?" encoding "?" encoded-text "?="). */
const ENCODED_WORD_OVERHEAD = 12;

export function isPrintableAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/**
 * RFC 2047 "B" encoded-words for `text`, split on code point boundaries (§5: each word must
 * hold whole characters) and folded with CRLF SP; whitespace between adjacent encoded-words
 * is dropped by decoders (§6.2), so the folding adds nothing to the decoded text.
 * `firstLineUsed` is how much of the first line the header name already took.
 */
export function encodedWords(text: string, firstLineUsed: number): string {
  const words: string[] = [];
  let avail = Math.max(MAX_ENCODED_LINE - firstLineUsed, 24);
  let chunk = '';
  const maxBytes = () => Math.floor((Math.min(avail, 75) - ENCODED_WORD_OVERHEAD) / 4) * 3;
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > maxBytes() && chunk !== '') {
      words.push(`=?UTF-8?B?${Buffer.from(chunk, 'utf8').toString('base64')}?=`);
      chunk = '';
      avail = MAX_ENCODED_LINE - 1; // continuation lines start with one space
    }
    chunk += ch;
  }
  if (chunk !== '' || words.length === 0) words.push(`=?UTF-8?B?${Buffer.from(chunk, 'utf8').toString('base64')}?=`);
  return words.join('\r\n ');
}

/**
 * Unstructured header text (Subject): as is when it is short printable ASCII, folded at
 * spaces when long (RFC 5322 §2.2.3), encoded-words when it has anything else.
 */
export function unstructuredHeader(name: string, value: string): string {
  const prefix = `${name}: `;
  if (!isPrintableAscii(value)) return prefix + encodedWords(value, prefix.length);
  return prefix + foldAtSpaces(value, prefix.length);
}

function foldAtSpaces(value: string, used: number): string {
  const out: string[] = [];
  let line = '';
  let room = 78 - used;
  for (const word of value.split(/(?= )/)) {
    if (line !== '' && line.length + word.length > room) {
      out.push(line);
      line = '';
      room = 78;
    }
    line += word;
  }
  out.push(line);
  // A fold is CRLF inserted before existing whitespace, so `word` keeps its leading space.
  return out.join('\r\n');
}

export interface Mailbox {
  name: string | null;
  address: string;
}

/** A deliberately plain addr-spec: local@domain, no spaces, brackets, quotes or control characters. */
const ADDR_SPEC = /^[^\s<>()@,;:"\\[\]\x00-\x1f\x7f]+@[^\s<>()@,;:"\\[\]\x00-\x1f\x7f]+$/;

/** `alerts@example.com`, `Packline <alerts@example.com>` or `"Ops, night" <ops@example.com>`; null when unusable. */
export function parseMailbox(input: string): Mailbox | null {
  const s = input.trim();
  if (/[\r\n]/.test(s)) return null;
  const m = /^(.*?)\s*<([^<>]+)>$/.exec(s);
  if (m === null) return ADDR_SPEC.test(s) ? { name: null, address: s } : null;
  const address = (m[2] as string).trim();
  if (!ADDR_SPEC.test(address)) return null;
  let name = (m[1] as string).trim();
  if (name.startsWith('"') && name.endsWith('"') && name.length >= 2) name = name.slice(1, -1).replace(/\\(.)/g, '$1');
  return { name: name === '' ? null : name, address };
}

/** RFC 5322 §3.2.3 atext plus spaces: a display name that needs no quoting. */
const PLAIN_PHRASE = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/;

/** A mailbox for a header; non-ASCII display names become encoded-words (RFC 2047 §5(3): never inside quotes). */
export function formatMailbox(mb: Mailbox, firstLineUsed = 0): string {
  if (mb.name === null) return mb.address;
  if (!isPrintableAscii(mb.name)) return `${encodedWords(mb.name, firstLineUsed)} <${mb.address}>`;
  const name = PLAIN_PHRASE.test(mb.name) ? mb.name : `"${mb.name.replace(/(["\\])/g, '\\$1')}"`;
  return `${name} <${mb.address}>`;
}

/** An address-list header (To), one mailbox per folded line when they do not fit on one. */
export function addressListHeader(name: string, mailboxes: Mailbox[]): string {
  const prefix = `${name}: `;
  const parts = mailboxes.map((mb, i) => formatMailbox(mb, i === 0 ? prefix.length : 1));
  const oneLine = prefix + parts.join(', ');
  if (!oneLine.includes('\r\n') && oneLine.length <= 78) return oneLine;
  return prefix + parts.join(',\r\n ');
}

function hex2(b: number): string {
  return `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
}

/**
 * RFC 2045 §6.7 quoted-printable, CRLF line breaks. Rule 1/2: bytes 33–126 except "=" and
 * inner spaces/tabs stay literal; rule 3: whitespace at the end of a line is encoded; rule 5:
 * encoded lines are at most 76 characters, using "=" soft line breaks, never splitting an
 * "=XX" triplet. A line starting with "." stays as it is: SMTP dot-stuffing handles it.
 */
export function encodeQuotedPrintable(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => {
      const chars = [...line];
      let out = '';
      let cur = '';
      chars.forEach((ch, i) => {
        const b = ch.charCodeAt(0);
        const last = i === chars.length - 1;
        const whitespace = ch === ' ' || ch === '\t';
        const literal = ch.length === 1 && ((b >= 33 && b <= 126 && ch !== '=') || (whitespace && !last));
        // All bytes of one character stay on one line, so even line-by-line decoders see whole characters.
        const token = literal ? ch : [...Buffer.from(ch, 'utf8')].map(hex2).join('');
        // 75 + the "=" of the soft break = 76.
        if (cur.length + token.length > 75) {
          out += `${cur}=\r\n`;
          cur = '';
        }
        cur += token;
      });
      return out + cur;
    })
    .join('\r\n');
}
