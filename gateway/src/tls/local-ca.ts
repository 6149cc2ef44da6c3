/**
 * A local certificate authority for the gateway (`packline tls init`): a CA, a server
 * certificate for the gateway's names and addresses, and optionally a client certificate per
 * device for mutual TLS (docs/mqtt.md §1 "TLS").
 *
 * node:crypto generates keys and parses X.509 but cannot sign a certificate, so signing is done
 * by the openssl command line tool (Debian package `openssl`, on every Debian and Raspberry Pi
 * OS image that has ca-certificates); docs/decisions/0010-mqtt-conformance-mqtt5-tls.md records why
 * not an npm X.509 library. Keys are ECDSA P-256 (RFC 5480; every MQTT TLS stack in use on
 * devices accepts it) and are written mode 0600; certificates 0644. Running it again keeps the
 * CA (devices that pinned it keep working) and re-issues what is asked for.
 */
import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isValidId } from '../../../contracts/topics.js';

const run = promisify(execFile);

export interface TlsInitOptions {
  outDir: string;
  /** DNS names for the server certificate (default: this host's name, `<name>.local`, localhost). */
  names?: string[];
  /** IP addresses for the server certificate (default: every address of this host, loopback included). */
  ips?: string[];
  /** Validity of the server and client certificates in days (the CA: 10 years). */
  days?: number;
  /** Device ids to issue client certificates for (CN = device id). */
  clients?: string[];
  /** Skip the server certificate (only add client certificates to an existing CA). */
  noServer?: boolean;
  openssl?: string;
  /** Shown in the CA's subject. */
  gatewayId?: string;
}

export interface TlsFiles {
  caCert: string;
  caKey: string;
  serverCert: string | null;
  serverKey: string | null;
  clients: Array<{ deviceId: string; cert: string; key: string }>;
  /** SHA-256 fingerprint of the CA certificate, for devices that pin it. */
  caFingerprint256: string;
  names: string[];
  ips: string[];
}

/** This host's addresses, loopback included (the server certificate's default IP SANs). */
export function hostAddresses(): string[] {
  const out = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.address.startsWith('fe80:')) out.add(a.address);
  }
  return [...out];
}

export function defaultNames(): string[] {
  const h = hostname();
  return [...new Set([h, `${h}.local`, 'localhost'])];
}

const DNS_RE = /^(?=.{1,253}$)([A-Za-z0-9*]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IP_RE = /^[0-9a-fA-F:.]+$/;

async function ssl(openssl: string, args: string[]): Promise<void> {
  try {
    await run(openssl, args, { timeout: 60_000 });
  } catch (err) {
    const e = err as { code?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${openssl} not found: install the openssl package (apt-get install openssl)`);
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() ?? String(err)}`);
  }
}

async function newKey(openssl: string, file: string): Promise<void> {
  await ssl(openssl, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
  await chmod(file, 0o600);
}

/** Signs `subject`'s key with the CA, with the X.509 v3 extensions given (RFC 5280 §4.2). */
async function issue(openssl: string, dir: string, o: { key: string; cert: string; subject: string; days: number; ext: string[] }): Promise<void> {
  const csr = join(dir, `.${randomBytes(6).toString('hex')}.csr`);
  const extFile = `${csr}.ext`;
  try {
    await ssl(openssl, ['req', '-new', '-key', o.key, '-subj', o.subject, '-out', csr]);
    await writeFile(extFile, `${o.ext.join('\n')}\n`);
    await ssl(openssl, [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(dir, 'ca.crt'),
      '-CAkey',
      join(dir, 'ca.key'),
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      String(o.days),
      '-sha256',
      '-extfile',
      extFile,
      '-out',
      o.cert,
    ]);
    await chmod(o.cert, 0o644);
  } finally {
    await rm(csr, { force: true });
    await rm(extFile, { force: true });
  }
}

export async function initLocalCa(opts: TlsInitOptions): Promise<TlsFiles> {
  const openssl = opts.openssl ?? 'openssl';
  const dir = opts.outDir;
  const days = opts.days ?? 825; // the longest TLS server certificate lifetime Apple's clients accept
  const names = opts.names ?? defaultNames();
  const ips = opts.ips ?? hostAddresses();
  for (const n of names) if (!DNS_RE.test(n)) throw new Error(`not a DNS name: ${JSON.stringify(n)}`);
  for (const ip of ips) if (!IP_RE.test(ip)) throw new Error(`not an IP address: ${JSON.stringify(ip)}`);
  for (const id of opts.clients ?? []) if (!isValidId(id)) throw new Error(`not a device id: ${JSON.stringify(id)}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  if (!existsSync(caKey) || !existsSync(caCert)) {
    await newKey(openssl, caKey);
    await ssl(openssl, [
      'req',
      '-x509',
      '-new',
      '-key',
      caKey,
      '-sha256',
      '-days',
      '3650',
      '-subj',
      `/CN=Packline local CA${opts.gatewayId ? ` ${opts.gatewayId}` : ''}/O=Packline`,
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      caCert,
    ]);
    await chmod(caCert, 0o644);
  }
  let serverCert: string | null = null;
  let serverKey: string | null = null;
  if (!opts.noServer) {
    serverKey = join(dir, 'server.key');
    serverCert = join(dir, 'server.crt');
    await newKey(openssl, serverKey);
    const san = [...names.map((n) => `DNS:${n}`), ...ips.map((ip) => `IP:${ip}`)].join(',');
    await issue(openssl, dir, {
      key: serverKey,
      cert: serverCert,
      subject: `/CN=${names[0] ?? ips[0] ?? 'packline'}`,
      days,
      ext: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', `subjectAltName=${san}`],
    });
  }
  const clients: TlsFiles['clients'] = [];
  for (const deviceId of opts.clients ?? []) {
    const key = join(dir, `client-${deviceId}.key`);
    const cert = join(dir, `client-${deviceId}.crt`);
    await newKey(openssl, key);
    await issue(openssl, dir, {
      key,
      cert,
      subject: `/CN=${deviceId}`,
      days,
      ext: ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth'],
    });
    clients.push({ deviceId, cert, key });
  }
  const fingerprint = new X509Certificate(await readFile(caCert)).fingerprint256;
  return { caCert, caKey, serverCert, serverKey, clients, caFingerprint256: fingerprint, names, ips };
}
