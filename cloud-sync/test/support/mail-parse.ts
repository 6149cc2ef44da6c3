/**
 * Reading a received message the way a mail reader would, written independently of the
 * encoders under test: unfold headers (RFC 5322 §2.2.3), decode RFC 2047 encoded-words
 * (B and Q; whitespace between adjacent words dropped, §6.2) and quoted-printable or base64 bodies.
 */

export interface ParsedMail {
  /** Lower-case name → unfolded raw value (first occurrence). */
  headers: Map<string, string>;
  headerNames: string[];
  /** Decoded Subject. */
  subject: string;
  /** Decoded body text (CRLF kept). */
  text: string;
  /** Raw header block lines, as sent (folded). */
  rawHeaderLines: string[];
}

export function decodeEncodedWords(value: string): string {
  const joined = value.replace(/(\?=)\s+(=\?)/g, '$1$2');
  return joined.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, enc: string, text: string) => {
    if (charset.toLowerCase() !== 'utf-8') throw new Error(`charset ${charset}`);
    if (enc.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
    const bytes = text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (__, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  });
}

export function decodeQuotedPrintable(body: string): string {
  const unwrapped = body.replace(/=\r\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < unwrapped.length; i++) {
    const c = unwrapped[i] as string;
    if (c === '=' && /^[0-9A-F]{2}$/.test(unwrapped.slice(i + 1, i + 3))) {
      bytes.push(parseInt(unwrapped.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function parseMail(raw: string): ParsedMail {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) throw new Error('no header/body separator');
  const rawHeaderLines = raw.slice(0, split).split('\r\n');
  const headers = new Map<string, string>();
  const headerNames: string[] = [];
  const unfolded = raw.slice(0, split).replace(/\r\n(?=[ \t])/g, '');
  for (const line of unfolded.split('\r\n')) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    headerNames.push(name);
    if (!headers.has(name.toLowerCase())) headers.set(name.toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = raw.slice(split + 4);
  const cte = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const text = cte === 'quoted-printable' ? decodeQuotedPrintable(body) : cte === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : body;
  return { headers, headerNames, subject: decodeEncodedWords(headers.get('subject') ?? ''), text, rawHeaderLines };
}
