/**
 * Credentials in clear: a plaintext MQTT listener while devices log in with passwords, an
 * HTTP API without TLS (API tokens, supervisor passwords), and a server certificate that is
 * about to expire or has (devices and browsers would refuse it). Each warning carries its fix
 * (docs/security.md "Encrypted by default").
 */
import type { CheckResult } from '../report.js';

const DAY_MS = 86_400_000;

export interface EncryptionFacts {
  /** The plaintext MQTT listener is open to the LAN (mqtt.plaintext, embedded broker). */
  plaintextMqtt: { port: number } | null;
  /** MQTT over TLS listens (port), or null. */
  mqttTlsPort: number | null;
  /** Devices that log in with a password over the network (hosted drivers use loopback). */
  passwordDevices: number;
  /** The API and screens are served over HTTPS. */
  https: boolean;
  /** The server certificate in use (the local one or the configured one), if readable. */
  certificate: { file: string; notAfter: number; local: boolean } | null;
  renewDays: number;
}

export function checkEncryption(f: EncryptionFacts, now: number): CheckResult {
  const title = 'Encryption (TLS)';
  const warnings: string[] = [];
  let fail = false;
  if (f.plaintextMqtt !== null && f.passwordDevices > 0) {
    warnings.push(
      `plaintext MQTT (port ${f.plaintextMqtt.port}) is open while ${f.passwordDevices} device(s) log in with passwords: anyone on the LAN can read them.` +
        `\nFix: connect the devices with mqtts://…:${f.mqttTlsPort ?? 8883} and the gateway's CA (docs/mqtt.md §1), then set mqtt.plaintext false.`,
    );
  }
  if (!f.https) {
    warnings.push(
      'the HTTP API and screens are served without TLS: API tokens and supervisor passwords cross the LAN in clear.' +
        '\nFix: remove tls.mode "off" (the gateway then makes its own certificate) or set http.tls.certFile and keyFile.',
    );
  }
  if (f.certificate !== null) {
    const days = Math.floor((f.certificate.notAfter - now) / DAY_MS);
    const fix = f.certificate.local
      ? 'Fix: restart the gateway (it re-issues its certificate under the same CA).'
      : `Fix: replace ${f.certificate.file} (or remove mqtt.tls / http.tls and let the gateway make its own).`;
    if (days < 0) {
      fail = true;
      warnings.push(`the server certificate ${f.certificate.file} has expired: devices and browsers refuse it.\n${fix}`);
    } else if (days < f.renewDays) {
      warnings.push(`the server certificate ${f.certificate.file} expires in ${days} day(s).\n${fix}`);
    }
  }
  const data = {
    plaintextMqttPort: f.plaintextMqtt?.port ?? null,
    mqttTlsPort: f.mqttTlsPort,
    https: f.https,
    passwordDevices: f.passwordDevices,
    certificateNotAfter: f.certificate === null ? null : new Date(f.certificate.notAfter).toISOString(),
    warnings,
  };
  const parts = [
    f.mqttTlsPort === null ? 'no MQTT over TLS' : `MQTT over TLS on ${f.mqttTlsPort}`,
    f.https ? 'HTTPS' : 'plain HTTP',
    f.plaintextMqtt === null ? 'plaintext MQTT off' : `plaintext MQTT on ${f.plaintextMqtt.port}`,
  ];
  if (f.certificate !== null) parts.push(`certificate valid until ${new Date(f.certificate.notAfter).toISOString().slice(0, 10)}`);
  const summary = parts.join(', ');
  if (warnings.length === 0) return { id: 'encryption', title, status: 'pass', detail: summary, data };
  return { id: 'encryption', title, status: fail ? 'fail' : 'warn', detail: `${summary}\n${warnings.join('\n')}`, data };
}
