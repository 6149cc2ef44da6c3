import { ST_GS_PROFILE } from '../../generic-line/protocol.js';
import type { ScaleDefinition } from '../../types.js';

/** Generic Chinese/Taiwanese indicator line `ST,GS,+  1.234kg` (Excell AM4 etc.); docs/devices/scales.md. */
export const definition: ScaleDefinition = {
  id: 'generic-st-gs-indicator',
  vendor: 'Generic',
  model: 'ST,GS line-format indicator',
  description: 'Streamed CR LF lines: ST/US/OL, GS/NT, sign, weight, unit',
  protocol: 'generic-line',
  transport: 'serial',
  serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  priority: 10,
  capabilities: ['weight'],
  options: ST_GS_PROFILE,
  unverified: [
    'line settings are configurable on these indicators; 9600 8N1 is an assumed default',
    'zero/tare commands (MZ/MT/CT) exist but their terminator is not documented, so none are configured',
  ],
};
