import type { ScaleDefinition } from '../../types.js';

/** Yaohua (耀华) XK3190-A9 / A9+ / D9 indicator, continuous mode tF=0; docs/devices/scales.md. */
export const definition: ScaleDefinition = {
  id: 'yaohua-xk3190-a9',
  vendor: 'Yaohua',
  model: 'XK3190-A9 / A9+ / D9 (tF=0)',
  description: 'Streamed 12-byte frames without stable flag or unit; stability inferred from equal readings',
  protocol: 'yaohua-a9',
  transport: 'serial',
  // A9 manual: 10-bit frames (1 start, 8 data, 1 stop); baud set by menu (1200 and 9600 seen).
  serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  priority: 30,
  capabilities: ['weight'],
  options: { unit: 'kg', stability: { samples: 5, toleranceGrams: 0 } },
  unverified: ['unit is not in the frame (kg assumed); baud rate is a menu setting'],
};
