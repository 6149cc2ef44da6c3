/** The shipment flow's pure side and its vocabulary (see docs/shipment-flow.md and gateway/README.md). */
export * from './domain.js';
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
} from './decide/intercept.js';
export { allowedDeviation, EMPTY_SCALE_GRAMS, expectedGrams, judgeWeight, type WeightVerdict } from './decide/weight.js';
export {
  initialStationState,
  isActiveState,
  needsVerification,
  packingCheckpoints,
  stepStation,
} from './decide/step-station.js';
export { renderStationView } from './decide/station-view.js';
export { restoreStation, type RestoreInput, type Restored } from './decide/restore.js';
export {
  decideDivert,
  DUPLICATE_WINDOW_MS,
  initialLineState,
  type DivertDecision,
  type LineContext,
  type LineState,
  type ParcelInput,
} from './decide/conveyor.js';
export { storeLookups } from './apply/store-lookups.js';
export {
  DEFAULT_CJK_FONT,
  escapeFieldData,
  itemSummary,
  labelDataFor,
  renderZplLabel,
  type LabelData,
  type LabelOptions,
} from '../label/zpl-label.js';
