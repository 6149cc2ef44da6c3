import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PacklineError } from '../../../contracts/errors.js';
import { parseConfig } from '../config/load.js';
import { printerFormat, printerGeometry } from './printers.js';
import { TEST_PAGE_CHINESE, formatLocalTime, renderTestPage, renderTsplTestPage, renderZplTestPage } from './test-page.js';

const fixture = (name: string) => readFileSync(new URL(`./golden/${name}`, import.meta.url), 'utf8');
const info = { printerId: 'st-1-printer', gatewayId: 'gw-01', jobId: 'T-gw-01-7-0', at: Date.UTC(2026, 10, 27, 10, 5, 9), utcOffsetMin: 480 };

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof PacklineError ? err.code : String(err);
  }
}

describe('ZPL test page', () => {
  it('matches the fixture', () => {
    expect(renderZplTestPage(info)).toBe(fixture('test-page.zpl'));
    expect(renderTestPage('zpl', info)).toBe(fixture('test-page.zpl'));
  });

  it('holds the ids, the time, a Code 128 of the job id, a 1-dot frame and the Chinese line', () => {
    const zpl = renderZplTestPage(info);
    expect(zpl.startsWith('^XA\n^CI28\n^PW608\n^LL1040\n')).toBe(true);
    expect(zpl.trimEnd().endsWith('^XZ')).toBe(true);
    expect(zpl).toContain('^FO0,0^GB608,1040,1^FS');
    expect(zpl).toContain('^BCN,100,Y,N,N^FDT-gw-01-7-0^FS');
    expect(zpl).toContain('^FDPrinter: st-1-printer^FS');
    expect(zpl).toContain('^FDGateway: gw-01^FS');
    expect(zpl).toContain('^FDTime: 2026-11-27 18:05:09 +08:00^FS');
    // The Chinese line in the CJK font bound by ^CW, sent as UTF-8 under ^CI28.
    expect(zpl).toContain('^CWJ,E:ANMDS.TTF');
    expect(zpl).toContain(`^AJN,28,28^FH^FD${TEST_PAGE_CHINESE}^FS`);
  });

  it('escapes field data and fits the frame and barcode to a narrow printer', () => {
    const zpl = renderZplTestPage({ ...info, printerId: 'p^XZ~JR', jobId: `T-${'g'.repeat(40)}-1-0` }, { widthDots: 432, cjkFont: 'E:SIMSUN.TTF' });
    expect(zpl).toContain('^FDPrinter: p_5EXZ_7EJR^FS');
    expect(zpl).toContain('^FO0,0^GB432,1040,1^FS');
    expect(zpl).toContain('^CWJ,E:SIMSUN.TTF');
    // 45 characters of Code 128 at 2 dots a module would be ~1060 dots: 1-dot modules.
    expect(zpl).toMatch(/\^BY1,3,100\^BC/);
    expect(zpl.match(/\^XZ/g)).toHaveLength(1);
  });

  it('refuses a job id that is not a plain id, a bad font and an impossible size', () => {
    expect(codeOf(() => renderZplTestPage({ ...info, jobId: 'T>1' }))).toBe('PKL_LABEL_TEMPLATE_ERROR');
    expect(codeOf(() => renderZplTestPage(info, { cjkFont: 'E:X.TTF^XZ' }))).toBe('PKL_LABEL_TEMPLATE_ERROR');
    expect(codeOf(() => renderZplTestPage(info, { widthDots: 100 }))).toBe('PKL_LABEL_TEMPLATE_ERROR');
  });
});

describe('TSPL test page', () => {
  it('matches the fixture, in CR LF lines', () => {
    const tspl = renderTsplTestPage(info);
    expect(tspl).toBe(fixture('test-page.tspl'));
    expect(renderTestPage('tspl', info)).toBe(tspl);
    expect(tspl.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
  });

  it('holds the frame, the barcode and the Chinese line in the CJK font', () => {
    const tspl = renderTsplTestPage(info);
    expect(tspl).toContain('SIZE 76 mm,130 mm\r\n');
    expect(tspl).toContain('CODEPAGE UTF-8\r\n');
    expect(tspl).toContain('BOX 0,0,607,1039,1\r\n');
    expect(tspl).toContain('BARCODE 24,240,"128",100,1,0,2,2,"T-gw-01-7-0"\r\n');
    expect(tspl).toContain(`TEXT 24,410,"TSS24.BF2",0,1,1,"${TEST_PAGE_CHINESE}"\r\n`);
    expect(tspl.endsWith('PRINT 1\r\n')).toBe(true);
  });

  it('keeps quotes and line breaks in ids from ending the command', () => {
    const tspl = renderTsplTestPage({ ...info, printerId: 'a"b\r\nPRINT 9' });
    expect(tspl).toContain('"Printer: a\\["]b PRINT 9"');
    expect(tspl.match(/^PRINT /gm)).toHaveLength(1);
  });
});

describe('formatLocalTime', () => {
  it('shows the wall-clock time with its offset', () => {
    const at = Date.UTC(2026, 0, 1, 20, 30, 5);
    expect(formatLocalTime(at)).toBe('2026-01-01 20:30:05 +00:00');
    expect(formatLocalTime(at, 480)).toBe('2026-01-02 04:30:05 +08:00');
    expect(formatLocalTime(at, -330)).toBe('2026-01-01 15:00:05 -05:30');
  });
});

describe('which test page a printer gets', () => {
  const config = parseConfig({
    gatewayId: 'gw-test',
    devices: [
      { id: 'prn-zpl', role: 'printer', station: 'st-1' },
      { id: 'prn-tsc', role: 'printer', driver: { kind: 'printer', definition: 'tsc-ttp-244', host: '127.0.0.1' } },
      { id: 'prn-gp', role: 'printer', driver: { kind: 'printer', definition: 'gprinter-gp-2120t', host: '127.0.0.1' } },
      { id: 'prn-st2', role: 'printer', station: 'st-2' },
      { id: 'scan-1', role: 'scanner', station: 'st-1' },
      { id: 'scale-1', role: 'scale', station: 'st-1' },
      { id: 'scan-2', role: 'scanner', station: 'st-2' },
      { id: 'scale-2', role: 'scale', station: 'st-2' },
    ],
    stations: [
      { id: 'st-1', scanner: 'scan-1', scale: 'scale-1', printer: 'prn-zpl' },
      { id: 'st-2', scanner: 'scan-2', scale: 'scale-2', printer: 'prn-st2', labelFormat: 'tspl' },
    ],
  });
  const dev = (id: string) => config.devices.find((d) => d.id === id) as (typeof config.devices)[number];

  it("speaks the station's label format, else the driver definition's language, else ZPL", () => {
    expect(printerFormat(config, dev('prn-zpl'))).toBe('zpl');
    expect(printerFormat(config, dev('prn-tsc'))).toBe('tspl');
    expect(printerFormat(config, dev('prn-st2'))).toBe('tspl');
  });

  it("narrows the page to a driven printer's maximum width", () => {
    expect(printerGeometry(dev('prn-zpl'))).toEqual({});
    expect(printerGeometry(dev('prn-tsc'))).toEqual({ dpmm: 8, widthDots: 608, heightDots: 1040 });
    expect(printerGeometry(dev('prn-gp'))).toEqual({ dpmm: 8, widthDots: 432, heightDots: 1040 });
    expect(renderTestPage('tspl', info, printerGeometry(dev('prn-gp')))).toContain('SIZE 54 mm,130 mm\r\n');
  });
});
