/**
 * One entry point for a carrier label in either language: the site's template for the carrier
 * when `printing.templates` names one (printing/label-templates.ts), else the built-in label
 * (zpl-label.ts / tspl-label.ts, unchanged for sites without templates).
 */
import type { LabelData } from './label-data.js';
import type { LabelFormat } from './label-format.js';
import { renderTsplLabel } from './tspl-label.js';
import { type LabelOptions, renderZplLabel } from './zpl-label.js';

/** The site's templates as the renderer sees them: null = no template for this carrier. */
export interface TemplateRenderer {
  render(format: LabelFormat, d: LabelData): string | null;
}

export function renderLabel(format: LabelFormat, d: LabelData, options: LabelOptions = {}): string {
  const fromTemplate = options.templates?.render(format, d) ?? null;
  if (fromTemplate !== null) return fromTemplate;
  return format === 'tspl' ? renderTsplLabel(d, options.tspl) : renderZplLabel(d, options);
}
