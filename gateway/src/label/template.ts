/**
 * Label templates per carrier (docs/printing.md): a template is DATA (a JSON file, see
 * gateway/templates/), a list of elements placed in printer dots on a label of a given size,
 * rendered here to ZPL or TSPL from the same {@link LabelData}. Fields are named in `{…}`
 * placeholders: waybill, carrier, receiverName, receiverPhone (masked), receiverAddress,
 * routingCode, sortCode, items, weight, shop, orderId, batch (pre-printed batch labels: `批次 id seq/total`).
 *
 * ZPL text is drawn as `^GF` graphics from a TrueType font (text-graphic.ts says why); TSPL text
 * uses the printer's font (`TEXT`/`BLOCK` with `CODEPAGE UTF-8`, as tspl-label.ts) since TSPL has
 * no offline preview to keep faithful. Every problem is a coded PKL_TEMPLATE_* error.
 */
import { PacklineError } from '../../../contracts/errors.js';
import { batchLine, formatKg, type LabelData, maskPhone } from './label-data.js';
import { graphicLine, wrap } from './text-graphic.js';
import type { TrueTypeFont } from './truetype.js';
import { escapeTsplString } from './tspl-label.js';

export { maskPhone } from './label-data.js';

export const TEMPLATE_FIELDS = [
  'waybill',
  'carrier',
  'receiverName',
  'receiverPhone',
  'receiverAddress',
  'routingCode',
  'sortCode',
  'items',
  'weight',
  'shop',
  'orderId',
  'batch',
] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

export type TemplateElement =
  /** Text with `{field}` placeholders; `lines` > 1 wraps within `width`. Skipped when `optional` and every placeholder is empty. */
  | { type: 'text'; x: number; y: number; size: number; text: string; width?: number; lines?: number; optional?: boolean }
  /** The waybill as Code 128, human-readable line below. */
  | { type: 'barcode'; x: number; y: number; height: number; module?: number }
  /** A filled rectangle (rules and bars). */
  | { type: 'rule'; x: number; y: number; width: number; height: number };

export interface LabelTemplate {
  id: string;
  name: string;
  /** Carriers this template is meant for (documentation and the default carrier map). */
  carriers: string[];
  widthMm: number;
  heightMm: number;
  /** Dots per mm of the layout (8 = 203 dpi). */
  dpmm: number;
  elements: TemplateElement[];
}

const WAYBILL_RE = /^[A-Za-z0-9-]{1,40}$/;
const PLACEHOLDER = /\{([A-Za-z]+)\}/g;
const MAX_FIELD = 120;

function invalid(template: string, reason: string): PacklineError {
  return new PacklineError('PKL_TEMPLATE_INVALID', { template, reason });
}

const int = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/** Validates a parsed template file; throws PKL_TEMPLATE_INVALID naming the first problem. */
export function parseTemplate(raw: unknown, source: string): LabelTemplate {
  if (typeof raw !== 'object' || raw === null) throw invalid(source, 'not a JSON object');
  const t = raw as Record<string, unknown>;
  const id = typeof t.id === 'string' && /^[a-z0-9][a-z0-9_-]{0,63}$/.test(t.id) ? t.id : null;
  if (id === null) throw invalid(source, 'id must be lower-case letters, digits, "-" or "_"');
  if (typeof t.widthMm !== 'number' || t.widthMm < 20 || t.widthMm > 120) throw invalid(id, 'widthMm must be 20..120');
  if (typeof t.heightMm !== 'number' || t.heightMm < 20 || t.heightMm > 300) throw invalid(id, 'heightMm must be 20..300');
  const dpmm = t.dpmm ?? 8;
  if (dpmm !== 8 && dpmm !== 12 && dpmm !== 24) throw invalid(id, 'dpmm must be 8, 12 or 24');
  const wDots = Math.round(t.widthMm * dpmm);
  const hDots = Math.round(t.heightMm * dpmm);
  if (!Array.isArray(t.elements) || t.elements.length === 0) throw invalid(id, 'elements must be a non-empty array');
  const elements = t.elements.map((e: unknown, i: number): TemplateElement => {
    const at = `elements[${i}]`;
    if (typeof e !== 'object' || e === null) throw invalid(id, `${at} is not an object`);
    const o = e as Record<string, unknown>;
    if (!int(o.x, 0, wDots - 1) || !int(o.y, 0, hDots - 1)) throw invalid(id, `${at}: x, y must be dots inside the label`);
    if (o.type === 'text') {
      if (!int(o.size, 8, 400)) throw invalid(id, `${at}: size must be 8..400 dots`);
      if (typeof o.text !== 'string' || o.text.length === 0) throw invalid(id, `${at}: text must be a non-empty string`);
      for (const m of o.text.matchAll(PLACEHOLDER)) {
        if (!(TEMPLATE_FIELDS as readonly string[]).includes(m[1] as string)) throw invalid(id, `${at}: unknown field {${m[1]}}`);
      }
      if (o.lines !== undefined && !int(o.lines, 1, 10)) throw invalid(id, `${at}: lines must be 1..10`);
      if (o.width !== undefined && !int(o.width, 8, wDots)) throw invalid(id, `${at}: width must fit the label`);
      return {
        type: 'text',
        x: o.x as number,
        y: o.y as number,
        size: o.size as number,
        text: o.text,
        width: (o.width as number | undefined) ?? wDots - (o.x as number),
        lines: (o.lines as number | undefined) ?? 1,
        optional: o.optional === true,
      };
    }
    if (o.type === 'barcode') {
      if (!int(o.height, 20, 600)) throw invalid(id, `${at}: height must be 20..600 dots`);
      if (o.module !== undefined && !int(o.module, 1, 10)) throw invalid(id, `${at}: module must be 1..10 dots`);
      return { type: 'barcode', x: o.x as number, y: o.y as number, height: o.height as number, module: (o.module as number | undefined) ?? 2 };
    }
    if (o.type === 'rule') {
      if (!int(o.width, 1, wDots) || !int(o.height, 1, hDots)) throw invalid(id, `${at}: width, height must fit the label`);
      return { type: 'rule', x: o.x as number, y: o.y as number, width: o.width as number, height: o.height as number };
    }
    throw invalid(id, `${at}: type must be text, barcode or rule`);
  });
  if (!elements.some((e) => e.type === 'barcode')) throw invalid(id, 'a carrier label needs the waybill barcode');
  const carriers = Array.isArray(t.carriers) ? t.carriers.filter((c): c is string => typeof c === 'string') : [];
  return { id, name: typeof t.name === 'string' ? t.name : id, carriers, widthMm: t.widthMm, heightMm: t.heightMm, dpmm, elements };
}

function fieldValue(d: LabelData, f: TemplateField): string {
  switch (f) {
    case 'receiverPhone':
      return maskPhone(d.receiverPhone);
    case 'weight':
      return d.grams === null ? '' : formatKg(d.grams);
    case 'items':
      return d.items;
    case 'shop':
      return d.shop ?? '';
    case 'batch':
      return d.batch === undefined ? '' : batchLine(d.batch);
    default:
      return (d[f] as string | null) ?? '';
  }
}

/** The text of an element with its fields filled in, or null for an optional one with nothing to show. */
function fill(d: LabelData, e: Extract<TemplateElement, { type: 'text' }>): string | null {
  let any = false;
  let empty = true;
  const out = e.text.replace(PLACEHOLDER, (_m, name: string) => {
    any = true;
    const v = fieldValue(d, name as TemplateField);
    if (v !== '') empty = false;
    return v;
  });
  if (e.optional && any && empty) return null;
  const chars = Array.from(out);
  return chars.length > MAX_FIELD ? `${chars.slice(0, MAX_FIELD - 1).join('')}…` : out;
}

function checkWaybill(t: LabelTemplate, d: LabelData): void {
  // Letters, digits and "-" only (see zpl-label.ts): a `>` or `"` would mean something to ^BC / BARCODE.
  if (!WAYBILL_RE.test(d.waybill)) {
    throw new PacklineError('PKL_LABEL_TEMPLATE_ERROR', {
      reason: `waybill ${JSON.stringify(d.waybill.slice(0, 48))} is not letters, digits and "-" (template ${t.id})`,
    });
  }
}

/**
 * Text elements already drawn, per font: the element's place, size and box and its filled-in
 * text → its `^FO…^GF…^FS` lines. Much of a label repeats from parcel to parcel (the shop, the
 * sender's address, the carrier, fixed captions) while the recipient changes; wrapping and
 * rasterising those again was most of the label's cost on the weight step. Bounded, oldest
 * dropped first (a hit moves to the back); ~1–4 KB per entry.
 */
const drawnText = new WeakMap<TrueTypeFont, Map<string, string>>();
export const DRAWN_TEXT_MAX = 512;

function drawn(font: TrueTypeFont, key: string): string | undefined {
  const m = drawnText.get(font);
  const hit = m?.get(key);
  if (hit !== undefined) {
    m!.delete(key);
    m!.set(key, hit);
  }
  return hit;
}

function keepDrawn(font: TrueTypeFont, key: string, fields: string): void {
  let m = drawnText.get(font);
  if (m === undefined) {
    m = new Map();
    drawnText.set(font, m);
  }
  if (m.size >= DRAWN_TEXT_MAX) m.delete(m.keys().next().value as string);
  m.set(key, fields);
}

/** Renders a template to ZPL II, text as `^GF` graphics drawn with `font`. */
export function renderZplTemplate(t: LabelTemplate, d: LabelData, font: TrueTypeFont): string {
  checkWaybill(t, d);
  const out = ['^XA', `^PW${Math.round(t.widthMm * t.dpmm)}`, `^LL${Math.round(t.heightMm * t.dpmm)}`, '^LH0,0'];
  for (const e of t.elements) {
    if (e.type === 'rule') {
      // ^GB Graphic Box: width, height, border thickness = the smaller side → a filled bar.
      out.push(`^FO${e.x},${e.y}^GB${e.width},${e.height},${Math.min(e.width, e.height)}^FS`);
    } else if (e.type === 'barcode') {
      // ^BY module width; ^BC Code 128, orientation N, height, interpretation line below, no check digit.
      out.push(`^FO${e.x},${e.y}^BY${e.module ?? 2},3,${e.height}^BCN,${e.height},Y,N,N^FD${d.waybill}^FS`);
    } else {
      const text = fill(d, e);
      if (text === null || text === '') continue;
      const key = `${t.id}\u0000${e.x},${e.y},${e.size},${e.width ?? 0},${e.lines ?? 1}\u0000${text}`;
      let fields = drawn(font, key);
      if (fields === undefined) {
        const lines = wrap(font, text, e.size, e.width ?? 0, e.lines ?? 1);
        const lineFields: string[] = [];
        let y = e.y;
        for (const line of lines) {
          // A line wider than its box (one line, no wrapping asked) is cut at the box.
          const g = graphicLine(font, line, e.size, t.id, e.width);
          lineFields.push(`^FO${e.x},${y}${g.field}^FS`);
          y += g.height;
        }
        fields = lineFields.join('\n');
        keepDrawn(font, key, fields);
      }
      out.push(fields);
    }
  }
  out.push('^PQ1', '^XZ');
  return `${out.join('\n')}\n`;
}

/** Renders a template to TSPL, text in the printer's `font` (a CJK font, see tspl-label.ts). */
export function renderTsplTemplate(t: LabelTemplate, d: LabelData, font: string): string {
  checkWaybill(t, d);
  if (!/^[A-Za-z0-9_]{1,20}(?:\.[A-Za-z0-9]{1,4})?$/.test(font)) {
    throw new PacklineError('PKL_TEMPLATE_FONT_INVALID', { font, reason: 'not a TSPL font name' });
  }
  const ttf = /\.TTF$/i.test(font) || font === '0';
  const cell = Number(/(\d{2})\.BF2$/i.exec(font)?.[1] ?? 24);
  // TEXT/BLOCK multiplication: points for a TrueType font, a whole enlargement of the bitmap cell otherwise.
  const mul = (dots: number) => (ttf ? Math.round((dots * 72) / (t.dpmm * 25.4)) : Math.min(10, Math.max(1, Math.floor(dots / cell))));
  const lineDots = (dots: number) => (ttf ? dots : cell * mul(dots));
  const out = [`SIZE ${t.widthMm} mm,${t.heightMm} mm`, 'GAP 2 mm,0 mm', 'DIRECTION 1,0', 'CODEPAGE UTF-8', 'CLS'];
  for (const e of t.elements) {
    if (e.type === 'rule') out.push(`BAR ${e.x},${e.y},${e.width},${e.height}`);
    else if (e.type === 'barcode') out.push(`BARCODE ${e.x},${e.y},"128",${e.height},1,0,${e.module ?? 2},${e.module ?? 2},"${d.waybill}"`);
    else {
      const text = fill(d, e);
      if (text === null || text === '') continue;
      const m = mul(e.size);
      if ((e.lines ?? 1) > 1) {
        const h = (e.lines ?? 1) * (lineDots(e.size) + 4);
        out.push(`BLOCK ${e.x},${e.y},${e.width},${h},"${font}",0,${m},${m},4,1,"${escapeTsplString(text)}"`);
      } else {
        out.push(`TEXT ${e.x},${e.y},"${font}",0,${m},${m},"${escapeTsplString(text)}"`);
      }
    }
  }
  out.push('PRINT 1');
  return `${out.join('\r\n')}\r\n`;
}
