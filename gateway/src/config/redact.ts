import type { Config } from './schema.js';

/** A copy of the config safe to print or log: passwords replaced. */
export function redactConfig(c: Readonly<Config>): Config {
  const copy = structuredClone(c) as Config;
  if (copy.mqtt.external?.password !== undefined) copy.mqtt.external.password = '[redacted]';
  if (copy.sync.mqttPassword !== undefined) copy.sync.mqttPassword = '[redacted]';
  if (copy.sync.url !== undefined) copy.sync.url = redactUrl(copy.sync.url);
  for (const ch of copy.notify.channels) {
    if (ch.type === 'webhook') {
      // Robot webhooks carry their access token in the query string.
      ch.url = redactUrl(ch.url);
      if (ch.secret !== undefined) ch.secret = '[redacted]';
    } else if (ch.pass !== undefined) {
      ch.pass = '[redacted]';
    }
  }
  return copy;
}

/** The URL with its password and query values replaced (tokens live there). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '[redacted]';
    for (const k of [...u.searchParams.keys()]) u.searchParams.set(k, '[redacted]');
    return u.toString();
  } catch {
    return '[invalid url]';
  }
}
