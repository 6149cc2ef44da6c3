/**
 * The gateway is encrypted by default (config `tls.mode: auto`: a local CA, MQTT over TLS, the
 * API over HTTPS; docs/security.md). Tests and rigs that speak http:// and mqtt:// to a gateway
 * choose plaintext explicitly, through these two helpers and nowhere else:
 * `parsePlaintextConfig` for a gateway built in the test process, `PLAINTEXT_ENV` for one
 * started as a child process (`packline start`; the environment overrides any config file).
 * Tests of the default itself (tls-default.test.ts) use neither.
 */
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

/** Environment that makes a child `packline start` plaintext (config tls.mode off). */
export const PLAINTEXT_ENV: Readonly<Record<string, string>> = { PACKLINE_TLS__MODE: 'off' };

/** The raw config with `tls.mode: off` (kept even when `raw` is an already parsed config). */
export function plaintext<T extends object>(raw: T): T & { tls: { mode: 'off' } } {
  const tls = (raw as { tls?: object }).tls;
  return { ...raw, tls: { ...tls, mode: 'off' } };
}

/** parseConfig of the raw config with `tls.mode: off`. */
export function parsePlaintextConfig(raw: object = {}): Readonly<Config> {
  return parseConfig(plaintext(raw));
}
