/** The shipment core: pure decisions, no I/O (see docs/shipment-flow.md). */
export * from './types.js';
export { EVENT, type EventType } from './events.js';
export {
  checkInterception,
  checkOrderFlags,
  findDispatched,
  isDispatched,
  type InterceptCheck,
  type InterceptCode,
  type Interception,
} from './intercept.js';
export { allowedDeviation, EMPTY_SCALE_GRAMS, expectedGrams, judgeWeight, type WeightVerdict } from './weight.js';
export {
  initialStationState,
  isActiveState,
  needsVerification,
  packingCheckpoints,
  stepStation,
} from './station-machine.js';
export { renderStationView } from './station-view.js';
export { restoreStation, type RestoreInput, type Restored } from './restore.js';
export {
  decideDivert,
  DUPLICATE_WINDOW_MS,
  initialLineState,
  type DivertDecision,
  type LineContext,
  type LineState,
  type ParcelInput,
} from './conveyor.js';
export { storeLookups } from './lookups.js';
export {
  DEFAULT_CJK_FONT,
  escapeFieldData,
  itemSummary,
  labelDataFor,
  renderZplLabel,
  type LabelData,
  type LabelOptions,
} from './label/zpl-label.js';
