/**
 * The logging surface simulators need. A pino logger satisfies it structurally; simulators
 * never import the gateway's logger module (simulators depend on contracts/ only).
 */
export interface SimLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = () => {};
export const silentLogger: SimLogger = { debug: noop, info: noop, warn: noop, error: noop };
