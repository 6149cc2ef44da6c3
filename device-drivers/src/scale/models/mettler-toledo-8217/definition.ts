import type { ScaleDefinition } from '../../types.js';

/** Toledo 8217 "weight only" ECR mode (also Mettler retail/DIVA 8213 family); docs/devices/scales.md. */
export const definition: ScaleDefinition = {
  id: 'mettler-toledo-8217',
  vendor: 'Mettler Toledo',
  model: '8217 ECR protocol',
  description: 'Single-letter commands W/Z/T/C, STX … CR answers, status byte when in motion',
  protocol: 'toledo-8217',
  transport: 'serial',
  // DIVA manual / Odoo Toledo8217 driver: 9600 baud, 7 data bits, even parity, 1 stop.
  serial: { baudRate: 9600, dataBits: 7, parity: 'even', stopBits: 1 },
  priority: 40,
  capabilities: ['weight', 'zero', 'tare', 'poll'],
  options: { unit: 'kg' },
  unverified: ['unit is a setup choice on the scale (kg/lb); set per site'],
};
