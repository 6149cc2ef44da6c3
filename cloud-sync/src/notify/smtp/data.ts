/**
 * The DATA payload (RFC 5321 §4.5.2 and §2.3.8): every line ends in CRLF (a lone CR or LF is
 * not allowed in SMTP text, so both become CRLF), a line that starts with "." gets one more
 * "." in front (the server removes it), and "." on a line of its own ends the data.
 */
export function smtpData(message: string | Uint8Array): Buffer {
  const text = typeof message === 'string' ? message : Buffer.from(message).toString('latin1');
  let crlf = text.replace(/\r\n|\r|\n/g, '\r\n');
  if (!crlf.endsWith('\r\n')) crlf += '\r\n';
  // Explicit CRLF rather than /^/m: JS also counts U+2028/U+2029 as line starts.
  const stuffed = crlf.replace(/(^|\r\n)\./g, '$1..');
  return Buffer.from(`${stuffed}.\r\n`, typeof message === 'string' ? 'utf8' : 'latin1');
}

/** What a server recovers from {@link smtpData} output (used by tests and the test sink). */
export function unstuffData(data: string): string {
  const body = data.endsWith('\r\n.\r\n') ? data.slice(0, -3) : data;
  return body.replace(/(^|\r\n)\./g, '$1');
}
