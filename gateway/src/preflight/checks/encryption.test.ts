import { describe, expect, it } from 'vitest';
import { checkEncryption, type EncryptionFacts } from './encryption.js';

const NOW = Date.parse('2026-11-01T00:00:00Z');
const DAY = 86_400_000;
const secure: EncryptionFacts = {
  plaintextMqtt: null,
  mqttTlsPort: 8883,
  passwordDevices: 12,
  https: true,
  certificate: { file: '/var/lib/packline/tls/server.crt', notAfter: NOW + 400 * DAY, local: true },
  renewDays: 30,
};

describe('encryption check', () => {
  it('passes with TLS everywhere and plaintext MQTT off', () => {
    const r = checkEncryption(secure, NOW);
    expect(r.status).toBe('pass');
    expect(r.detail).toBe('MQTT over TLS on 8883, HTTPS, plaintext MQTT off, certificate valid until 2027-12-06');
  });

  it('warns while plaintext MQTT carries device passwords, with the fix', () => {
    const r = checkEncryption({ ...secure, plaintextMqtt: { port: 1883 } }, NOW);
    expect(r.status).toBe('warn');
    expect(r.detail).toContain('plaintext MQTT (port 1883) is open while 12 device(s) log in with passwords');
    expect(r.detail).toContain('Fix: connect the devices with mqtts://…:8883');
    expect(r.detail).toContain('then set mqtt.plaintext false');
  });

  it('a plaintext listener nobody logs in to with a password is no warning', () => {
    expect(checkEncryption({ ...secure, plaintextMqtt: { port: 1883 }, passwordDevices: 0 }, NOW).status).toBe('pass');
  });

  it('warns when the API is plain HTTP', () => {
    const r = checkEncryption({ ...secure, https: false, certificate: null }, NOW);
    expect(r.status).toBe('warn');
    expect(r.detail).toContain('API tokens and supervisor passwords cross the LAN in clear');
    expect(r.detail).toContain('Fix: remove tls.mode "off"');
  });

  it('warns within renewDays of the certificate end and fails after it; the fix depends on whose certificate it is', () => {
    const soon = checkEncryption({ ...secure, certificate: { ...secure.certificate!, notAfter: NOW + 10 * DAY } }, NOW);
    expect(soon.status).toBe('warn');
    expect(soon.detail).toContain('expires in 10 day(s)');
    expect(soon.detail).toContain('Fix: restart the gateway');
    const gone = checkEncryption({ ...secure, certificate: { file: '/etc/packline/gw.crt', notAfter: NOW - DAY, local: false } }, NOW);
    expect(gone.status).toBe('fail');
    expect(gone.detail).toContain('has expired');
    expect(gone.detail).toContain('Fix: replace /etc/packline/gw.crt');
  });
});
