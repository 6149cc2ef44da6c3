/** Label printers on raw TCP (ZPL, TSPL) and IPP: the public surface of device-drivers/src/printer. */
export { PRINTER_DEFINITIONS, printerDefinition, RAW_PRINT_PORT } from './definitions.js';
export { PRINTER_LANGUAGES, TSPL, ZPL } from './languages.js';
export { JobMemory, type JobOutcome } from './job-memory.js';
export { RawTcpPrinterDriver, type PrinterDriverStats, type RawTcpPrinterDriverOptions } from './raw-tcp-driver.js';
export * from './types.js';
export * from './ipp/ipp-driver.js';
