import { describe, expect, it } from 'vitest';
import { stripSeverity, summarizeReasons } from './reasons.js';

describe('IPP printer-state-reasons', () => {
  it('strips the RFC 8011 §5.4.12 severity suffix', () => {
    expect(stripSeverity('media-empty-report')).toBe('media-empty');
    expect(stripSeverity('media-empty-error')).toBe('media-empty');
    expect(stripSeverity('toner-low-warning')).toBe('toner-low');
    expect(stripSeverity('none')).toBe('none');
  });

  it('maps blocking conditions to printer faults and keeps supply warnings apart', () => {
    expect(summarizeReasons(['media-empty-report', 'toner-empty-report'])).toEqual({ faults: ['paper_out', 'ribbon_out'], warnings: [] });
    expect(summarizeReasons(['media-empty-warning', 'media-needed-warning'])).toEqual({ faults: ['paper_out'], warnings: [] });
    expect(summarizeReasons(['media-jam-error', 'door-open-error'])).toEqual({ faults: ['paper_jam', 'cover_open'], warnings: [] });
    expect(summarizeReasons(['media-low-report', 'marker-supply-low-warning'])).toEqual({ faults: [], warnings: ['media_low', 'marker_supply_low'] });
    expect(summarizeReasons(['none'])).toEqual({ faults: [], warnings: [] });
    expect(summarizeReasons(['some-vendor-thing'])).toEqual({ faults: [], warnings: [] });
  });
});
