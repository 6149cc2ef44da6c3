/**
 * Test peers npm cannot install: real programs from Debian that some tests talk to. On a
 * developer's machine without one, those tests are SKIPPED with the reason recorded, and
 * `npm test` ends with one line naming them and the Debian package that enables them
 * (test-peers/skip-summary-reporter.ts). With CI=true (set by .ci/run, which installs every
 * peer) nothing is skipped: the tests run and a missing peer fails them, as it must.
 */
import { appendFileSync, existsSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Peer {
  /** What the tests run (looked up on PATH plus /usr/sbin). */
  readonly programs: readonly string[];
  /** The Debian packages that bring it (`apt-get install …`). */
  readonly debian: readonly string[];
}

export const PEERS = {
  mosquitto: { programs: ['mosquitto'], debian: ['mosquitto'] },
  'mosquitto-clients': { programs: ['mosquitto_pub', 'mosquitto_sub', 'mosquitto_passwd'], debian: ['mosquitto-clients'] },
  // ippeveprinter refuses to start without DNS-SD: .ci/run also starts dbus and avahi-daemon.
  ippeveprinter: { programs: ['ippeveprinter', 'avahi-daemon'], debian: ['cups-ipp-utils', 'avahi-daemon', 'dbus'] },
  chromium: { programs: ['chromium'], debian: ['chromium'] },
  // NSS's certutil: trusts the gateway's CA in a Chromium profile as docs/ui.md tells a kiosk to.
  certutil: { programs: ['certutil'], debian: ['libnss3-tools'] },
} as const satisfies Record<string, Peer>;

export type PeerName = keyof typeof PEERS;

/** The env variable the vitest config sets to the file skipped files are recorded in. */
export const SKIP_RECORD_ENV = 'TEST_PEER_SKIP_RECORD';

export interface SkipRecord {
  file: string;
  peers: PeerName[];
}

function onPath(program: string): boolean {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/bin'];
  return dirs.some((d) => d !== '' && existsSync(join(d, program)));
}

/** The peers among `names` whose programs are not installed. */
export function missingPeers(...names: PeerName[]): PeerName[] {
  return names.filter((n) => !PEERS[n].programs.every(onPath));
}

/**
 * Whether the calling test file (or block) must be skipped: some of `names` are missing and
 * CI is not set. Records the skip for the summary line. Use as
 * `describe.skipIf(skipWithout(import.meta.url, 'mosquitto'))`.
 */
export function skipWithout(moduleUrl: string, ...names: PeerName[]): boolean {
  const file = relative(process.cwd(), fileURLToPath(moduleUrl));
  const missing = missingPeers(...names);
  if (missing.length === 0 || process.env['CI'] === 'true') return false;
  const record = process.env[SKIP_RECORD_ENV];
  if (record !== undefined) appendFileSync(record, `${JSON.stringify({ file, peers: missing } satisfies SkipRecord)}\n`);
  return true;
}
