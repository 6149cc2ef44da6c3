/**
 * The site's label templates (config `printing.templates`, docs/printing.md): template files
 * (JSON data, gateway/templates/ ships ZTO, YTO, SF and a standard one; `dir` adds the site's
 * own, which win on the same id), a carrier → template map with a default, the TrueType font
 * ZPL text is drawn with, and the printer font TSPL text uses.
 *
 * Nothing configured (no `default`, no `carriers`) = the built-in label for every carrier, as
 * before templates existed. A broken file, an unknown template id or an unusable font does not
 * stop the gateway: the label that needs it fails with a PKL_TEMPLATE_* code, its job is
 * recorded failed with cause `template_error` (a print exception), and is reprinted once fixed.
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
export const DEFAULT_TEMPLATE_FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
export const DEFAULT_TSPL_TEMPLATE_FONT = 'TSS24.BF2';

export interface TemplateSettings {
  /** Extra template files (*.json). */
  dir?: string | undefined;
  /** Template id for carriers not in `carriers`; unset = the built-in label. */
  default?: string | undefined;
  /** Carrier code (order.carrier, e.g. ZTO) → template id. */
  carriers?: Readonly<Record<string, string>> | undefined;
  /** TrueType font (.ttf/.ttc) ZPL text is drawn with. */
  font?: string | undefined;
  /** Printer font for TSPL text. */
  tsplFont?: string | undefined;
}

type Loaded = { ok: true; template: LabelTemplate } | { ok: false; error: PacklineError };

export class LabelTemplates implements TemplateRenderer {
  private readonly byId = new Map<string, Loaded>();
  private font: TrueTypeFont | PacklineError | null = null;

  constructor(private readonly settings: TemplateSettings = {}) {
    for (const dir of [BUILTIN_TEMPLATE_DIR, settings.dir]) {
      if (dir === undefined || !existsSync(dir)) continue;
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
        const file = join(dir, f);
        const id = f.replace(/\.json$/, '');
        try {
          const t = parseTemplate(JSON.parse(readFileSync(file, 'utf8')), id);
          this.byId.set(t.id, { ok: true, template: t });
        } catch (err) {
          const error = err instanceof PacklineError ? err : new PacklineError('PKL_TEMPLATE_INVALID', { template: id, reason: `${file}: ${String(err)}`.slice(0, 200) });
          this.byId.set(id, { ok: false, error });
        }
      }
    }
  }

  /** Whether any carrier uses a template. */
  get enabled(): boolean {
    return this.settings.default !== undefined || Object.keys(this.settings.carriers ?? {}).length > 0;
  }

  ids(): string[] {
    return [...this.byId.keys()].sort();
  }

  /** The template for a carrier, null for the built-in label; throws PKL_TEMPLATE_* when it cannot be used. */
  templateFor(carrier: string): LabelTemplate | null {
    const id = this.settings.carriers?.[carrier] ?? this.settings.default;
    if (id === undefined) return null;
    return this.get(id, carrier);
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
        this.font = err instanceof PacklineError ? err : new PacklineError('PKL_TEMPLATE_FONT_INVALID', { font: this.settings.font ?? DEFAULT_TEMPLATE_FONT, reason: String(err) });
      }
    }
    if (this.font instanceof PacklineError) throw this.font;
    return this.font;
  }

  render(format: LabelFormat, d: LabelData): string | null {
    const t = this.templateFor(d.carrier);
    if (t === null) return null;
    return this.renderWith(t, format, d);
  }

  renderWith(t: LabelTemplate, format: LabelFormat, d: LabelData): string {
    return format === 'tspl' ? renderTsplTemplate(t, d, this.settings.tsplFont ?? DEFAULT_TSPL_TEMPLATE_FONT) : renderZplTemplate(t, d, this.zplFont());
  }
}
