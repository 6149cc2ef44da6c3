import type { ScaleDefinition } from '../../types.js';

/** Aclas (顶尖) OS2X weighing module ("Pinnacle" OS2CX manual); docs/devices/scales.md. */
export const definition: ScaleDefinition = {
  id: 'aclas-os2x',
  vendor: 'Aclas',
  model: 'OS2X / OS2CX weighing module',
  description: 'Active 16-byte frames ~10/s (default) or passive ENQ/DC1 poll; <ZK> zero, <TK> tare',
  protocol: 'aclas-os2x',
  transport: 'serial',
  serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  priority: 30,
  capabilities: ['weight', 'zero', 'tare', 'poll'],
  options: { mode: 'active' },
  unverified: ['manual gives 9600 baud; 8N1 framing is assumed'],
};
