/**
 * How a driver asks a scale for weight, derived from the protocol's command list and the
 * definition's options (so a new model needs no driver code). Only a definition with the
 * `poll` capability is polled (a generic-line profile may encode commands yet stream):
 *
 * - `weighNow` exists (MT-SICS `SI`): send it; the answer carries the stable flag (`S S`/`S D`),
 *   unlike `S`, which waits for stability and would stall the reading (MT-SICS manual, `S`/`SI`).
 * - `enquire` + `weigh` and `options.mode === 'passive'` (Aclas OS2X / CAS ENQ-ACK-DC1): ENQ,
 *   wait for ACK, then DC1 (OS2CX manual, passive mode).
 * - only `weigh` (Toledo 8217 `W`): send it.
 * - otherwise the scale streams by itself (Toledo continuous, CAS 22-byte, Yaohua tF=0,
 *   Aclas active mode): `null`, the driver just reads.
 */
import type { ScaleCommand, ScaleDefinition, ScaleProtocol } from '../types.js';

export function pollSequence(definition: ScaleDefinition, protocol: ScaleProtocol): readonly ScaleCommand[] | null {
  if (!definition.capabilities.includes('poll')) return null;
  const has = (c: ScaleCommand) => protocol.commands.includes(c);
  if (has('weighNow')) return ['weighNow'];
  if (has('enquire')) return has('weigh') && definition.options?.['mode'] === 'passive' ? ['enquire', 'weigh'] : null;
  if (has('weigh')) return ['weigh'];
  return null;
}
