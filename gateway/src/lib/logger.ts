/**
 * The root pino logger. Built once by the composition root; every component receives a
 * child (`logger.child({ component: 'broker' })`) and nothing imports a global logger.
 * Secrets are redacted wherever they appear in logged objects.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  'secret',
  'token',
  'adminToken',
  'stationToken',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'config.mqtt.external.password',
  'mqtt.external.password',
];

export function createLogger(level: LevelWithSilent | string = 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { svc: 'packline' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
