/**
 * One entry point for a carrier label in either language: the site's template for the carrier
 * when `printing.templates` names one (printing/label-templates.ts), else the built-in label
 * (zpl-label.ts / tspl-label.ts, unchanged for sites without templates).
 */
import type { LabelData } from './label-data.js';
import type { LabelFormat } from './label-format.js';
import { renderTsplLabel } from './tspl-label.js';
import { type LabelOptions, renderZplLabel } from './zpl-label.js';

export function renderLabel(format: LabelFormat, d: LabelData, options: LabelOptions = {}): string {
  const fromTemplate = options.templates?.render(format, d) ?? null;
  if (fromTemplate !== null) return fromTemplate;
  return format === 'tspl' ? renderTsplLabel(d, options.tspl) : renderZplLabel(d, options);
}
