import { describe, expect, it } from 'vitest';
import { httpsUrlOf, plaintextRefusal } from './plaintext-on-tls-port.js';

describe('plaintext on the HTTPS port', () => {
  it('names the address the client reached, in URL form', () => {
    expect(httpsUrlOf('10.0.20.5', 8080)).toBe('https://10.0.20.5:8080/');
    expect(httpsUrlOf('::ffff:10.0.20.5', 8080)).toBe('https://10.0.20.5:8080/');
    expect(httpsUrlOf('fd00::5', 8080)).toBe('https://[fd00::5]:8080/');
  });

  it('is a complete HTTP/1.1 400 that closes the connection, with an exact Content-Length', () => {
    const raw = plaintextRefusal('https://10.0.20.5:8080/');
    const [head, body] = raw.split('\r\n\r\n') as [string, string];
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(head).toContain('Connection: close');
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
    expect(body).toContain('open https://10.0.20.5:8080/');
  });
});
