import type { ScaleDefinition } from '../../types.js';

/** CAS CI-series indicators (CI-400, CI-600D, CI-150A, NT-200) in 22-byte format; docs/devices/scales.md. */
export const definition: ScaleDefinition = {
  id: 'cas-ci-22byte',
  vendor: 'CAS',
  model: 'CI-series indicator, 22-byte format',
  description: 'Streamed or on print: ST/US/OL, GS/NT, ID, lamp byte, 8-char weight, unit',
  protocol: 'cas-22',
  transport: 'serial',
  serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  priority: 30,
  capabilities: ['weight'],
  unverified: ['line settings are model-dependent; 9600 8N1 is an assumed default, check the indicator setup'],
};
