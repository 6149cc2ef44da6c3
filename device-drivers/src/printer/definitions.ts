/**
 * Label printers Packline drives over raw TCP, as data. Adding a model that speaks ZPL or TSPL
 * is one entry here; a new language needs a module next to zpl/ and tspl/ and an entry in
 * languages.ts.
 */
import type { PrinterDefinition } from './types.js';

/** Raw TCP printing port used by Zebra, TSC and Gprinter network interfaces (docs/devices/printers.md). */
export const RAW_PRINT_PORT = 9100;

export const PRINTER_DEFINITIONS: readonly PrinterDefinition[] = [
  {
    id: 'zebra-zd420',
    vendor: 'Zebra',
    model: 'ZD420 (4" desktop, ZPL)',
    language: 'zpl',
    port: RAW_PRINT_PORT,
    dpmm: 8,
    maxWidthMm: 104,
    unverified: ['~HS silence while faulted depends on the firmware version (docs.zebra.com)'],
  },
  {
    id: 'zebra-zt411',
    vendor: 'Zebra',
    model: 'ZT411 (4" industrial, ZPL)',
    language: 'zpl',
    port: RAW_PRINT_PORT,
    dpmm: 8,
    maxWidthMm: 104,
    unverified: ['~HS silence while faulted depends on the firmware version (docs.zebra.com)'],
  },
  {
    id: 'tsc-ttp-244',
    vendor: 'TSC',
    model: 'TTP-244 Plus (4" desktop, TSPL2)',
    language: 'tspl',
    port: RAW_PRINT_PORT,
    dpmm: 8,
    maxWidthMm: 104,
    unverified: ['Ethernet option; the base model is USB/serial only'],
  },
  {
    id: 'gprinter-gp-2120t',
    vendor: 'Gprinter',
    model: 'GP-2120T (2" desktop, TSPL)',
    language: 'tspl',
    port: RAW_PRINT_PORT,
    dpmm: 8,
    maxWidthMm: 54,
    unverified: ['network variant and <ESC>!? bit layout taken from the TSC manual (TSPL compatible)'],
  },
];

export function printerDefinition(id: string): PrinterDefinition | undefined {
  return PRINTER_DEFINITIONS.find((d) => d.id === id);
}
