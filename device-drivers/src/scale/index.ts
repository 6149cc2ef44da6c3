/**
 * All scale protocols and model definitions. Adding a model = a folder under `models/` with a
 * `definition.ts`, listed here (a test asserts folders and this list agree). Adding a protocol =
 * a folder `<protocol>/protocol.ts` registered in SCALE_PROTOCOLS.
 */
import { aclasOs2xProtocol } from './aclas-os2x/protocol.js';
import { cas22Protocol } from './cas-22/protocol.js';
import { genericLineProtocol } from './generic-line/protocol.js';
import { hidPosProtocol } from './hid-pos/protocol.js';
import { definition as aclasOs2x } from './models/aclas-os2x/definition.js';
import { definition as casCi22 } from './models/cas-ci-22byte/definition.js';
import { definition as genericStGs } from './models/generic-st-gs-indicator/definition.js';
import { definition as hidPosScale } from './models/hid-pos-scale/definition.js';
import { definition as mtContinuous } from './models/mettler-toledo-continuous/definition.js';
import { definition as mt8217 } from './models/mettler-toledo-8217/definition.js';
import { definition as mtSics } from './models/mettler-toledo-mt-sics/definition.js';
import { definition as yaohuaA9 } from './models/yaohua-xk3190-a9/definition.js';
import { mtSicsProtocol } from './mt-sics/protocol.js';
import { toledo8217Protocol } from './toledo-8217/protocol.js';
import { toledoContinuousProtocol } from './toledo-continuous/protocol.js';
import type { ScaleDefinition, ScaleProtocol } from './types.js';
import { yaohuaA9Protocol } from './yaohua-a9/protocol.js';

export const SCALE_PROTOCOLS: Readonly<Record<string, ScaleProtocol>> = Object.freeze(
  Object.fromEntries(
    [mtSicsProtocol, toledo8217Protocol, toledoContinuousProtocol, cas22Protocol, aclasOs2xProtocol, yaohuaA9Protocol, genericLineProtocol, hidPosProtocol].map(
      (p) => [p.id, p],
    ),
  ),
);

export const SCALE_DEFINITIONS: readonly ScaleDefinition[] = Object.freeze([
  mtSics,
  mt8217,
  mtContinuous,
  casCi22,
  aclasOs2x,
  yaohuaA9,
  genericStGs,
  hidPosScale,
]);

export function findScaleDefinition(id: string): ScaleDefinition | undefined {
  return SCALE_DEFINITIONS.find((d) => d.id === id);
}

/** Definitions whose USB VID:PID match, best (highest priority) first. */
export function matchScaleDefinitionsByUsb(vendorId: number, productId: number): ScaleDefinition[] {
  return SCALE_DEFINITIONS.filter((d) => d.match?.usb?.some((u) => u.vendorId === vendorId && u.productId === productId)).sort(
    (a, b) => b.priority - a.priority,
  );
}

/** The protocol of a definition; undefined only for a broken definition (index.test.ts rules that out). */
export function protocolOf(definition: ScaleDefinition): ScaleProtocol | undefined {
  return SCALE_PROTOCOLS[definition.protocol];
}

export type * from './types.js';
export { StabilityDetector, type StabilityOptions } from './stability.js';
export { decimalToGrams, GRAMS_PER_UNIT } from './units.js';
