/**
 * Renders a ZPL label to PNG, locally (no internet). The rendering (zpl-renderer-js, size from
 * `^PW`/`^LL`, known limits) lives in device-drivers/src/printer/zpl/png.ts, shared with the
 * gateway's label preview; this module keeps the simulator's names.
 */
export { labelSizeMm, renderZplPng } from '../../../device-drivers/src/printer/zpl/png.js';
