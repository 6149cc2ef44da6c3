/** Label previews (PNG) and the printer test page on the HTTP wire. */
import { Type } from '@sinclair/typebox';
import { Id } from './common.js';

export const PrintJobParams = Type.Object({ jobId: Type.String({ minLength: 1, maxLength: 64 }) });

export const PrinterParams = Type.Object({ printerId: Id });

/** A 200 answer whose body is a PNG image (OpenAPI 3: binary string under image/png). */
export const PngReply = {
  description: 'The label drawn as PNG (8 dots/mm unless the label says otherwise)',
  content: { 'image/png': { schema: Type.String({ format: 'binary' }) } },
} as const;

export const TestPageReply = Type.Object({
  job_id: Type.String({ description: 'the print job id sent to the printer (T-…)' }),
  printer_id: Type.String(),
  format: Type.Union([Type.Literal('zpl'), Type.Literal('tspl')], { description: "the printer's language" }),
});
