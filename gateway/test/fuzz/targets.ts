/** Every fuzz target, in the order the harness runs them. */
import type { FuzzTarget } from './harness.js';
import { configFilesTarget } from './targets/config-files.js';
import { dwsTelegramsTarget } from './targets/dws-telegrams.js';
import { httpApiTarget } from './targets/http-api.js';
import { mqttPacketsTarget } from './targets/mqtt-packets.js';
import { mqttPayloadsTarget, mqttPayloadsTcpTarget } from './targets/mqtt-payloads.js';
import { scannersTarget } from './targets/scanners.js';
import { serialScalesTarget } from './targets/serial-scales.js';

export const TARGETS: readonly FuzzTarget[] = [
  serialScalesTarget,
  scannersTarget,
  dwsTelegramsTarget,
  configFilesTarget,
  mqttPayloadsTarget,
  mqttPayloadsTcpTarget,
  mqttPacketsTarget,
  httpApiTarget,
];
