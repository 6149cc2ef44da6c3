import type { ScaleDefinition } from '../../types.js';

/** Toledo standard continuous output (Wildcat, IND terminals, Ohaus Defender in Toledo mode); docs/devices/scales.md. */
export const definition: ScaleDefinition = {
  id: 'mettler-toledo-continuous',
  vendor: 'Mettler Toledo',
  model: 'Standard continuous output (18 byte)',
  description: 'Streamed STX + 3 status words + 6-digit weight + 6-digit tare + CR + checksum',
  protocol: 'toledo-continuous',
  transport: 'serial',
  // WILDCAT manual: 7 data bits, even parity, 1 stop; baud 300–9600 (use >= 4800 for ~7 frames/s).
  serial: { baudRate: 9600, dataBits: 7, parity: 'even', stopBits: 1 },
  priority: 30,
  capabilities: ['weight'],
  options: { checksum: true },
  unverified: ['checksum byte is a terminal setup option; set "checksum": false if the terminal omits it'],
};
