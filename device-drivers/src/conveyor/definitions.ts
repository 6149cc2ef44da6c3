/**
 * DWS / sorter line models as DATA: the telegram template, who opens the TCP
 * connection, and the line's timing. A site whose controller is configured differently adds a
 * definition (or overrides the template in config) — no code. Field layouts follow the
 * configurable host-message builders of DWS controllers (Datalogic DM3610 / AV500 style); the
 * concrete layouts below are the factory-neutral ones we ship, not a vendor default.
 */
import { PacklineError } from '../../../contracts/errors.js';
import type { TelegramTemplate } from './telegram.js';

export interface DwsDefinition {
  readonly id: string;
  readonly vendor: string;
  readonly model: string;
  readonly description: string;
  /** `listen`: the line connects to the gateway (common); `dial`: the gateway connects to the line. */
  readonly gatewayRole: 'listen' | 'dial';
  readonly defaultPort: number;
  readonly telegram: TelegramTemplate;
  /**
   * How long the line waits for a destination before the parcel reaches the divert point
   * (budget = distance scan→divert / belt speed − DWS and PLC latency; docs/devices/conveyors.md). The
   * driver answers the default chute itself when the gateway is slower.
   */
  readonly replyTimeoutMs: number;
  readonly defaultChute: string;
  readonly unverified?: readonly string[];
}

export const DWS_DEFINITIONS: readonly DwsDefinition[] = [
  {
    id: 'generic-dws-stx-semicolon',
    vendor: 'generic',
    model: 'DWS tunnel, STX/ETX semicolon telegrams',
    description: 'STX seq;barcode;weight kg;L;W;H ETX → STX seq;chute ETX. Line connects to the gateway.',
    gatewayRole: 'listen',
    defaultPort: 2101,
    telegram: {
      framing: 'stx-etx',
      separator: ';',
      parcel: [
        { field: 'seq', width: 6 },
        { field: 'barcode' },
        { field: 'weight', unit: 'kg', decimals: 3 },
        { field: 'length', unit: 'mm' },
        { field: 'width', unit: 'mm' },
        { field: 'height', unit: 'mm' },
      ],
      reply: [{ field: 'seq', width: 6 }, { field: 'chute' }],
      noRead: ['NOREAD', '?????'],
      noValue: ['NODIM', '-----'],
      keepalive: 'HB',
    },
    replyTimeoutMs: 1000,
    defaultChute: '999',
    unverified: ['template is a neutral default; set the controller (or the template) to match'],
  },
  {
    id: 'generic-dws-fixed-crlf',
    vendor: 'generic',
    model: 'DWS line, fixed-width CR LF telegrams',
    description: 'DWS seq(4) barcode(20) grams(6) L W H mm(4 each) CR LF → DST seq(4) chute(3) CR LF. Gateway dials the line.',
    gatewayRole: 'dial',
    defaultPort: 4001,
    telegram: {
      framing: 'crlf',
      parcel: [
        { field: 'literal', text: 'DWS' },
        { field: 'seq', width: 4 },
        { field: 'barcode', width: 20 },
        { field: 'weight', unit: 'g', width: 6 },
        { field: 'length', unit: 'mm', width: 4 },
        { field: 'width', unit: 'mm', width: 4 },
        { field: 'height', unit: 'mm', width: 4 },
      ],
      reply: [
        { field: 'literal', text: 'DST' },
        { field: 'seq', width: 4 },
        { field: 'chute', width: 3 },
      ],
      noRead: ['????????????????????', 'NOREAD'],
      noValue: ['----', '------'],
    },
    replyTimeoutMs: 800,
    defaultChute: '000',
    unverified: ['template is a neutral default; a 4-digit seq wraps every 10,000 parcels'],
  },
];

export function dwsDefinition(id: string): DwsDefinition {
  const d = DWS_DEFINITIONS.find((x) => x.id === id);
  if (!d) throw new PacklineError('PKL_CONFIG_INVALID', { reason: `unknown DWS definition "${id}" (known: ${DWS_DEFINITIONS.map((x) => x.id).join(', ')})` });
  return d;
}
