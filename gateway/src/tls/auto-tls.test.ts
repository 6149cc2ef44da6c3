import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { type LocalTls, wantsLocalTls, withLocalTls } from './auto-tls.js';

const local: LocalTls = {
  dir: '/d/tls',
  caCert: '/d/tls/ca.crt',
  caKey: '/d/tls/ca.key',
  certFile: '/d/tls/server.crt',
  keyFile: '/d/tls/server.key',
  notAfter: 0,
  caFingerprint256: '',
  action: 'reused',
  reason: null,
};

describe('automatic TLS in the config the gateway runs with', () => {
  it('is wanted by default, not with tls.mode off, nor when every listener has its own files', () => {
    expect(wantsLocalTls(parseConfig({}))).toBe(true);
    expect(wantsLocalTls(parseConfig({ tls: { mode: 'off' } }))).toBe(false);
    const files = () => ({ certFile: '/etc/gw.crt', keyFile: '/etc/gw.key' });
    expect(wantsLocalTls(parseConfig({ http: { tls: files() }, mqtt: { tls: files() } }))).toBe(false);
    expect(wantsLocalTls(parseConfig({ http: { tls: files() } }))).toBe(true);
    // External broker: only the API needs a certificate.
    expect(wantsLocalTls(parseConfig({ http: { tls: files() }, mqtt: { external: { url: 'mqtts://broker:8883' } } }))).toBe(false);
  });

  it('fills mqtt.tls and http.tls where no files are set, and never replaces configured ones', () => {
    const c = withLocalTls(parseConfig({ http: { tls: { certFile: '/etc/gw.crt', keyFile: '/etc/gw.key' } } }), local);
    expect(c.mqtt.tls).toMatchObject({ certFile: '/d/tls/server.crt', keyFile: '/d/tls/server.key', port: 8883 });
    expect(c.http.tls).toEqual({ certFile: '/etc/gw.crt', keyFile: '/etc/gw.key' });
    const base = parseConfig({ tls: { mode: 'off' } });
    expect(withLocalTls(base, null)).toBe(base);
  });

  it('plaintext MQTT off without any certificate is refused at load', () => {
    expect(() => parseConfig({ tls: { mode: 'off' }, mqtt: { plaintext: false } })).toThrow(/mqtt\.plaintext: false needs TLS/);
    expect(parseConfig({ mqtt: { plaintext: false } }).mqtt.plaintext).toBe(false);
  });
});
