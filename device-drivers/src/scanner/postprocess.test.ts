import { describe, expect, it } from 'vitest';
import { ScanPostprocessor } from './postprocess.js';

describe('scan post-processing', () => {
  it('strips the programmed prefix and suffix and extracts a leading AIM id', () => {
    const p = new ScanPostprocessor({ prefix: '\x02', suffix: '#' });
    expect(p.process({ code: '\x02]C1011234567890123110\x1d10ABC#' }, 0)).toEqual({
      type: 'scan',
      code: '011234567890123110\x1d10ABC',
      symbology: ']C1',
    });
    expect(p.process({ code: 'NOPREFIX' }, 0)).toEqual({ type: 'scan', code: 'NOPREFIX' });
    expect(new ScanPostprocessor({ aimId: 'keep' }).process({ code: ']E04006381333931' }, 0)).toEqual({ type: 'scan', code: ']E04006381333931' });
    // A transport-level symbology (HID POS) wins over nothing; the data itself is kept.
    expect(new ScanPostprocessor().process({ code: 'ABC', symbology: ']Q1' }, 0)).toEqual({ type: 'scan', code: 'ABC', symbology: ']Q1' });
  });

  it('suppresses the same code within the window after the last accepted read (time injected)', () => {
    const p = new ScanPostprocessor({ duplicateWindowMs: 500 });
    expect(p.process({ code: 'A' }, 1000).type).toBe('scan');
    expect(p.process({ code: 'A' }, 1499).type).toBe('duplicate');
    expect(p.process({ code: 'A' }, 1500).type).toBe('scan'); // window measured from the accepted read
    expect(p.process({ code: 'B' }, 1501).type).toBe('scan');
    expect(p.process({ code: 'A' }, 1502).type).toBe('scan'); // only the last code is remembered
    expect(new ScanPostprocessor().process({ code: 'A' }, 0).type).toBe('scan');
  });

  it('refuses codes the contract would refuse, with a coded error', () => {
    const p = new ScanPostprocessor();
    expect(p.process({ code: 'Grüße' }, 0)).toMatchObject({ type: 'error', code: 'PKL_FRAME_INVALID', raw: 'Grüße' });
    expect(p.process({ code: ']C1' }, 0)).toMatchObject({ type: 'error', detail: { reason: 'empty code' } });
    expect(p.process({ code: 'x'.repeat(129) }, 0).type).toBe('error');
    expect(() => new ScanPostprocessor({ duplicateWindowMs: -1 })).toThrow(expect.objectContaining({ code: 'PKL_CONFIG_INVALID' }));
  });
});
