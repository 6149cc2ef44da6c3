/**
 * The site's label templates (config `printing.templates`, docs/printing.md): template files
 * (JSON data, gateway/templates/ ships ZTO, YTO, SF and a standard one; `dir` adds the site's
 * own, which win on the same id), a carrier → template map with a default, the TrueType font
 * ZPL text is drawn with (unset = the font shipped in gateway/fonts/, so labels look the same on
 * every machine without a system font), and the printer font TSPL text uses.
 *
 * A carrier with no template configured gets the built-in label: on ZPL the shipped
 * `standard-76x130` template (Chinese drawn as graphics, no printer font assumed), on TSPL
 * tspl-label.ts. A broken file, an unknown template id or an unusable font does not stop the
 * gateway: the label that needs it fails with a PKL_TEMPLATE_* code, its job is recorded failed
 * with cause `template_error` (a print exception), and is reprinted once fixed. {@link
 * LabelTemplates.problems} finds those before a label does: `packline config check`, the
 * start-up log and preflight report them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PacklineError } from '../../../contracts/errors.js';
import type { LabelData, TemplateRenderer } from '../label/label-data.js';
import type { LabelFormat } from '../label/label-format.js';
import { type LabelTemplate, parseTemplate, renderTsplTemplate, renderZplTemplate } from '../label/template.js';
import { TrueTypeFont } from '../label/truetype.js';

/** Templates shipped with Packline (data files, not code). */
export const BUILTIN_TEMPLATE_DIR = [
  // From source (gateway/src/printing/) and from the build (dist/gateway/src/printing/).
  fileURLToPath(new URL('../../templates/', import.meta.url)),
  fileURLToPath(new URL('../../../../gateway/templates/', import.meta.url)),
].find((d) => existsSync(d)) as string;
/**
 * The font shipped with Packline: WenQuanYi Micro Hei 0.2.0-beta (TrueType outlines in a .ttc,
 * 5.2 MB, Apache-2.0; gateway/fonts/LICENSE-wqy-microhei.txt). Covers GB 2312 levels 1 and 2
 * and the rarer characters of real addresses (label-font.test.ts checks both through the cmap);
 * why this one: docs/decisions/0013-newcomer-install.md.
 */
export const BUNDLED_TEMPLATE_FONT =
  [
    fileURLToPath(new URL('../../fonts/wqy-microhei.ttc', import.meta.url)),
    fileURLToPath(new URL('../../../../gateway/fonts/wqy-microhei.ttc', import.meta.url)),
  ].find((f) => existsSync(f)) ?? fileURLToPath(new URL('../../fonts/wqy-microhei.ttc', import.meta.url));
export const DEFAULT_TEMPLATE_FONT = BUNDLED_TEMPLATE_FONT;
/** The built-in ZPL label for carriers without a template of their own. */
export const BUILTIN_ZPL_TEMPLATE = 'standard-76x130';
export const DEFAULT_TSPL_TEMPLATE_FONT = 'TSS24.BF2';

export interface TemplateSettings {
  /** Extra template files (*.json). */
  dir?: string | undefined;
  /** Template id for carriers not in `carriers`; unset = the built-in label. */
  default?: string | undefined;
  /** Carrier code (order.carrier, e.g. ZTO) → template id. */
  carriers?: Readonly<Record<string, string>> | undefined;
  /** TrueType font (.ttf/.ttc) ZPL text is drawn with; unset = {@link BUNDLED_TEMPLATE_FONT}. */
  font?: string | undefined;
  /** Printer font for TSPL text. */
  tsplFont?: string | undefined;
}

/**
 * A label as a real one looks: a long address with characters outside GB 2312 that real
 * districts use (埇桥区, 浉河区, 鄠邑区, 硚口区), full-width punctuation, a masked phone.
 */
export const SAMPLE_LABEL: LabelData = {
  waybill: '7700123456789',
  carrier: 'ZTO',
  receiverName: '张三丰',
  receiverPhone: '13800138000',
  receiverAddress: '安徽省宿州市埇桥区淮海中路（东关大街口）１８号；河南省信阳市浉河区；西安市鄠邑区；武汉市硚口区',
  routingCode: '浙A-HZ01',
  sortCode: '300-A12',
  grams: 1234,
  orderId: 'TB2026111100001',
  items: '白色T恤 x2; 袜子 x1',
  shop: '旗舰店',
};

/** What to do about a template problem, for the start-up log and `config check`. */
export function templateFix(e: PacklineError): string {
  switch (e.code) {
    case 'PKL_TEMPLATE_FONT_INVALID':
    case 'PKL_TEMPLATE_GLYPH_MISSING':
      return 'set printing.templates.font to a TrueType font (.ttf/.ttc with glyf outlines) holding these characters, or remove it to use the bundled WenQuanYi Micro Hei';
    case 'PKL_TEMPLATE_NOT_FOUND':
      return `name a template that exists in printing.templates.default / carriers (shipped: gateway/templates/; the site's own: printing.templates.dir)`;
    default:
      return 'fix the template file (docs/printing.md describes the format)';
  }
}

type Loaded = { ok: true; template: LabelTemplate } | { ok: false; error: PacklineError };

export class LabelTemplates implements TemplateRenderer {
  private readonly byId = new Map<string, Loaded>();
  private font: TrueTypeFont | PacklineError | null = null;

  constructor(private readonly settings: TemplateSettings = {}) {
    for (const dir of [BUILTIN_TEMPLATE_DIR, settings.dir]) {
      if (dir === undefined || !existsSync(dir)) continue;
      for (const f of readdirSync(dir)
        .filter((n) => n.endsWith('.json'))
        .sort()) {
        const file = join(dir, f);
        const id = f.replace(/\.json$/, '');
        try {
          const t = parseTemplate(JSON.parse(readFileSync(file, 'utf8')), id);
          this.byId.set(t.id, { ok: true, template: t });
        } catch (err) {
          const error =
            err instanceof PacklineError ? err : new PacklineError('PKL_TEMPLATE_INVALID', { template: id, reason: `${file}: ${String(err)}`.slice(0, 200) });
          this.byId.set(id, { ok: false, error });
        }
      }
    }
  }

  /** Whether the site configured a template for any carrier (the built-in ZPL label is one either way). */
  get enabled(): boolean {
    return this.settings.default !== undefined || Object.keys(this.settings.carriers ?? {}).length > 0;
  }

  ids(): string[] {
    return [...this.byId.keys()].sort();
  }

  /**
   * The template for a carrier; for a carrier with none configured, the built-in ZPL template,
   * or null (tspl-label.ts) for TSPL. Throws PKL_TEMPLATE_* when it cannot be used.
   */
  templateFor(carrier: string, format: LabelFormat = 'zpl'): LabelTemplate | null {
    const id = this.settings.carriers?.[carrier] ?? this.settings.default ?? (format === 'zpl' ? BUILTIN_ZPL_TEMPLATE : undefined);
    if (id === undefined) return null;
    return this.get(id, carrier);
  }

  /** The font file ZPL text is drawn with. */
  get fontPath(): string {
    return this.settings.font ?? DEFAULT_TEMPLATE_FONT;
  }

  /**
   * Every template in use (the configured ones and the built-in ZPL label) drawn once with
   * {@link SAMPLE_LABEL}: the errors a real label would hit (unknown or invalid template, font
   * missing or not TrueType, a glyph the font lacks), one per template; [] when all can be drawn.
   */
  problems(): PacklineError[] {
    const ids = new Set<string>([BUILTIN_ZPL_TEMPLATE, ...Object.values(this.settings.carriers ?? {})]);
    if (this.settings.default !== undefined) ids.add(this.settings.default);
    const out: PacklineError[] = [];
    for (const id of [...ids].sort()) {
      try {
        renderZplTemplate(this.get(id), SAMPLE_LABEL, this.zplFont());
      } catch (err) {
        const e = err instanceof PacklineError ? err : new PacklineError('PKL_TEMPLATE_INVALID', { template: id, reason: String(err).slice(0, 200) });
        if (!out.some((o) => o.message === e.message)) out.push(e);
      }
    }
    return out;
  }

  get(id: string, carrier = ''): LabelTemplate {
    const t = this.byId.get(id);
    if (t === undefined) throw new PacklineError('PKL_TEMPLATE_NOT_FOUND', { template: id, carrier });
    if (!t.ok) throw t.error;
    return t.template;
  }

  /** The ZPL text font, read once (~5 MB for WenQuanYi Micro Hei). */
  zplFont(): TrueTypeFont {
    if (this.font === null) {
      try {
        this.font = TrueTypeFont.load(this.settings.font ?? DEFAULT_TEMPLATE_FONT);
      } catch (err) {
        this.font =
          err instanceof PacklineError
            ? err
            : new PacklineError('PKL_TEMPLATE_FONT_INVALID', { font: this.settings.font ?? DEFAULT_TEMPLATE_FONT, reason: String(err) });
      }
    }
    if (this.font instanceof PacklineError) throw this.font;
    return this.font;
  }

  render(format: LabelFormat, d: LabelData): string | null {
    const t = this.templateFor(d.carrier, format);
    if (t === null) return null;
    return this.renderWith(t, format, d);
  }

  renderWith(t: LabelTemplate, format: LabelFormat, d: LabelData): string {
    return format === 'tspl' ? renderTsplTemplate(t, d, this.settings.tsplFont ?? DEFAULT_TSPL_TEMPLATE_FONT) : renderZplTemplate(t, d, this.zplFont());
  }
}
