/**
 * Labels can be drawn: every label template in use (the site's and the built-in ZPL label)
 * drawn once with a sample label. A template that cannot draw its text would fail every label
 * of its carrier at the station (`template_error`), so this is a fail, not a warning.
 */
import type { Config } from '../../config/schema.js';
import { LabelTemplates, templateFix } from '../../printing/label-templates.js';
import type { CheckResult } from '../report.js';

export function checkLabelTemplates(config: Readonly<Config>): CheckResult {
  const title = 'Label templates drawable';
  const templates = new LabelTemplates(config.printing.templates);
  const problems = templates.problems();
  const data = { font: templates.fontPath, problems: problems.map((e) => ({ code: e.code, message: e.message, fix: templateFix(e) })) };
  if (problems.length === 0)
    return { id: 'label_templates', title, status: 'pass', detail: `every template in use draws its text with ${templates.fontPath}`, data };
  return { id: 'label_templates', title, status: 'fail', detail: problems.map((e) => `${e.code}: ${e.message} — fix: ${templateFix(e)}`).join('\n'), data };
}
