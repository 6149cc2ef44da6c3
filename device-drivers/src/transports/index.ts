export type { ByteTransport, TransportFactory } from './byte-transport.js';
export { SerialTransport, type SerialTransportOptions } from './serial.js';
export { TcpTransport, type TcpTransportOptions } from './tcp.js';
export { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
