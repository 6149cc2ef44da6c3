import { describe, expect, it } from 'vitest';
import { PRINTER_DEFINITIONS } from './definitions.js';
import { PRINTER_LANGUAGES, TSPL, ZPL } from './languages.js';
import { encodeTsplStatus } from './tspl/status.js';
import { encodeExtendedStatus, encodeHostStatus, HQES_ERROR, IDLE_HOST_STATUS } from './zpl/status.js';

describe('printer languages → status snapshots', () => {
  it('ZPL ~HS: faults most actionable first; busy while formats or labels remain', () => {
    const r = ZPL.createReader();
    const out = r.push(encodeHostStatus({ ...IDLE_HOST_STATUS, paperOut: true, paused: true, headOpen: true, labelsRemaining: 2 }));
    expect(out).toEqual([{ ok: true, query: 'primary', snapshot: { faults: ['head_open', 'paper_out', 'paused'], busy: true } }]);
    expect(r.push(encodeHostStatus(IDLE_HOST_STATUS))).toEqual([{ ok: true, query: 'primary', snapshot: { faults: [], busy: false } }]);
  });

  it('ZPL ~HQES is the fallback and never reports "done"', () => {
    const out = ZPL.createReader().push(encodeExtendedStatus({ errors: HQES_ERROR.mediaOut | 0x400, errors2: 0, warnings: 0, warnings2: 0 }));
    expect(out).toEqual([{ ok: true, query: 'fallback', snapshot: { faults: ['paper_out', 'printer_error'], busy: true } }]);
  });

  it('ZPL garbage becomes a coded error with the raw bytes', () => {
    const [r] = ZPL.createReader().push(Buffer.from('\x02x\x03'));
    expect(r).toMatchObject({ ok: false, code: 'PKL_FRAME_INVALID', details: { protocol: 'zpl-status', raw: '\\x02x\\x03' } });
  });

  it('TSPL: printing bit is "busy", fault bits map to the shared codes', () => {
    const r = TSPL.createReader();
    r.sent('primary');
    expect(r.push(Uint8Array.of(encodeTsplStatus({ ribbonOut: true, printing: true })))).toEqual([]); // answer not ended yet
    expect(r.endOfReply?.()).toEqual([{ ok: true, query: 'primary', snapshot: { faults: ['ribbon_out'], busy: true } }]);
    expect(r.push(Uint8Array.of(0))).toMatchObject([{ ok: false, code: 'PKL_FRAME_INVALID' }]); // not asked
    r.sent('primary');
    r.push(Uint8Array.of(0x00, 0x04)); // two bytes for one query: no status at all
    expect(r.endOfReply?.()).toMatchObject([{ ok: false, code: 'PKL_FRAME_INVALID' }]);
  });

  it('every definition names a known language, a port and a unique id', () => {
    const ids = new Set<string>();
    for (const d of PRINTER_DEFINITIONS) {
      expect(PRINTER_LANGUAGES[d.language]).toBeDefined();
      expect(d.port).toBeGreaterThan(0);
      expect(ids.has(d.id)).toBe(false);
      ids.add(d.id);
    }
    expect(PRINTER_DEFINITIONS.map((d) => d.language).sort()).toEqual(['tspl', 'tspl', 'zpl', 'zpl']);
  });
});
