import type { ScaleDefinition } from '../../types.js';

/** Any MT-SICS balance/terminal (XS/XP/ICS/IND…); docs/devices/scales.md. */
export const definition: ScaleDefinition = {
  id: 'mettler-toledo-mt-sics',
  vendor: 'Mettler Toledo',
  model: 'MT-SICS balance or terminal',
  description: 'Command/response text protocol; S/SI weight, Z zero, T tare, TAC clear tare',
  protocol: 'mt-sics',
  transport: 'serial', // also TCP via the Ethernet option, same text protocol
  // Atlantis mt-sics README / MT manuals: 9600 8N1 (handshake Xon/Xoff or none, not modelled here).
  serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  priority: 50,
  capabilities: ['weight', 'zero', 'tare', 'poll'],
};
