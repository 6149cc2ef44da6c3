import type { Config } from './schema.js';

/** A copy of the config safe to print or log: passwords replaced. */
export function redactConfig(c: Readonly<Config>): Config {
  const copy = structuredClone(c) as Config;
  if (copy.mqtt.external?.password !== undefined) copy.mqtt.external.password = '[redacted]';
  return copy;
}
