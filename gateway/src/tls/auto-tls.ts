/**
 * Encrypted by default (config `tls.mode: auto`, docs/security.md): at start the gateway makes
 * sure `<dataDir>/tls` holds a local CA and a server certificate for this host's names and
 * addresses (tls/local-ca.ts, the same files as `packline tls init`), and serves MQTT over TLS
 * and the API and screens over HTTPS with it wherever mqtt.tls / http.tls name no files of
 * their own.
 *
 * A restart reuses what is there, so devices and browsers that trust (or pin) the CA keep
 * working. The server certificate alone is re-issued, under the same CA, when it expires within
 * `tls.renewDays`, no longer chains to the CA, or does not cover a name or address the host has
 * now (a new DHCP lease, a renamed host): RFC 6125 §6 name checks against the SANs would refuse
 * it otherwise. The CA key stays 0600 in a 0700 directory, re-asserted at every start.
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PacklineError } from '../../../contracts/errors.js';
import type { Config } from '../config/schema.js';
import { defaultNames, hostAddresses, initLocalCa } from './local-ca.js';

const DAY_MS = 86_400_000;

export interface LocalTls {
  dir: string;
  caCert: string;
  caKey: string;
  certFile: string;
  keyFile: string;
  /** Expiry of the server certificate (epoch ms). */
  notAfter: number;
  /** SHA-256 fingerprint of the CA certificate, for devices that pin it. */
  caFingerprint256: string;
  action: 'created' | 'renewed' | 'reused';
  /** Why it was re-issued (renewed only). */
  reason: string | null;
}

export interface EnsureLocalTlsOptions {
  dataDir: string;
  renewDays: number;
  gatewayId?: string;
  now?: number;
  /** DNS names and IP addresses the certificate must cover (default: this host's). */
  names?: string[];
  ips?: string[];
  openssl?: string;
}

/** `<dataDir>/tls`: where the automatic CA and server certificate live. */
export function localTlsDir(dataDir: string): string {
  return join(dataDir, 'tls');
}

/** Why the server certificate in `dir` cannot be reused, or null when it can. */
export function reissueReason(dir: string, o: { renewDays: number; now: number; names: readonly string[]; ips: readonly string[] }): string | null {
  const files = ['ca.crt', 'ca.key', 'server.crt', 'server.key'].map((f) => join(dir, f));
  if (!files.every((f) => existsSync(f))) return 'missing';
  let ca: X509Certificate;
  let cert: X509Certificate;
  try {
    ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
    cert = new X509Certificate(readFileSync(join(dir, 'server.crt')));
  } catch (err) {
    return `unreadable (${(err as Error).message})`;
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'not signed by the CA in the same folder';
  const left = Date.parse(cert.validTo) - o.now;
  if (left < o.renewDays * DAY_MS) return `expires ${cert.validTo} (within tls.renewDays = ${o.renewDays})`;
  const missing = [...o.names.filter((n) => cert.checkHost(n) === undefined), ...o.ips.filter((ip) => cert.checkIP(ip) === undefined)];
  if (missing.length > 0) return `does not cover ${missing.join(', ')}`;
  return null;
}

/**
 * The DNS names and IP addresses of the server certificate in `dir`, if any: a re-issue keeps
 * them, so names given by hand (`packline tls init --name gw.wh3.lan`) survive a renewal.
 */
export function currentSans(dir: string): { names: string[]; ips: string[] } {
  try {
    const san = new X509Certificate(readFileSync(join(dir, 'server.crt'))).subjectAltName ?? '';
    const entries = san.split(/,\s*/);
    return {
      names: entries.filter((e) => e.startsWith('DNS:')).map((e) => e.slice(4)),
      ips: entries.filter((e) => e.startsWith('IP Address:')).map((e) => e.slice(11)),
    };
  } catch {
    return { names: [], ips: [] };
  }
}

/** Makes, renews or reuses the local CA and server certificate (see the file comment). */
export async function ensureLocalTls(o: EnsureLocalTlsOptions): Promise<LocalTls> {
  const dir = localTlsDir(o.dataDir);
  const now = o.now ?? Date.now();
  const names = o.names ?? defaultNames();
  const ips = o.ips ?? hostAddresses();
  const hadCa = existsSync(join(dir, 'ca.key')) && existsSync(join(dir, 'ca.crt'));
  const reason = reissueReason(dir, { renewDays: o.renewDays, now, names, ips });
  if (reason !== null) {
    const kept = currentSans(dir);
    try {
      await initLocalCa({
        outDir: dir,
        names: [...new Set([...names, ...kept.names])],
        ips: [...new Set([...ips, ...kept.ips])],
        ...(o.gatewayId !== undefined ? { gatewayId: o.gatewayId } : {}),
        ...(o.openssl !== undefined ? { openssl: o.openssl } : {}),
      });
    } catch (err) {
      // Fail closed: a gateway told to encrypt does not fall back to plaintext on its own.
      throw new PacklineError('PKL_CONFIG_INVALID', {
        reason:
          `tls.mode auto: cannot make the local certificate in ${dir}: ${(err as Error).message}. ` +
          'Install openssl (apt-get install openssl), or set mqtt.tls and http.tls files, or tls.mode "off" for plaintext',
      });
    }
  }
  // Re-asserted at every start, like the other secret files: a copy or a restore may have
  // widened them.
  chmodSync(dir, 0o700);
  chmodSync(join(dir, 'ca.key'), 0o600);
  chmodSync(join(dir, 'server.key'), 0o600);
  const caCert = join(dir, 'ca.crt');
  const certFile = join(dir, 'server.crt');
  const cert = new X509Certificate(readFileSync(certFile));
  return {
    dir,
    caCert,
    caKey: join(dir, 'ca.key'),
    certFile,
    keyFile: join(dir, 'server.key'),
    notAfter: Date.parse(cert.validTo),
    caFingerprint256: new X509Certificate(readFileSync(caCert)).fingerprint256,
    action: reason === null ? 'reused' : hadCa ? 'renewed' : 'created',
    reason: reason === null || !hadCa ? null : reason,
  };
}

/**
 * The config the gateway runs with: mqtt.tls and http.tls take the local certificate where
 * they name no files of their own (hand-configured files always win).
 */
export function withLocalTls(config: Readonly<Config>, tls: LocalTls | null): Readonly<Config> {
  if (tls === null) return config;
  const files = { certFile: tls.certFile, keyFile: tls.keyFile };
  return {
    ...config,
    mqtt: { ...config.mqtt, tls: config.mqtt.tls.certFile === undefined ? { ...config.mqtt.tls, ...files } : config.mqtt.tls },
    http: { ...config.http, tls: config.http.tls.certFile === undefined ? { ...config.http.tls, ...files } : config.http.tls },
  };
}

/** Whether the gateway makes its own certificate at start (tls.mode auto and something lacks files). */
export function wantsLocalTls(config: Readonly<Config>): boolean {
  return (
    config.tls.mode === 'auto' && (config.http.tls.certFile === undefined || (config.mqtt.external === undefined && config.mqtt.tls.certFile === undefined))
  );
}
