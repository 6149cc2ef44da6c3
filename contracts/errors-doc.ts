/** Renders docs/errors.md from the catalogue (`npm run docs:errors` writes it; a test compares). */
import { ERRORS, type ErrorSpec } from './errors.js';

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERRORS).map(([code, spec]: [string, ErrorSpec]) => {
    const esc = (s: string) => s.replaceAll('|', '\\|');
    return `| \`${code}\` | ${spec.http} | ${esc(spec.en)} | ${esc(spec.zh)} |`;
  });
  return [
    '# Error catalogue',
    '',
    'Generated from [contracts/errors.ts](../contracts/errors.ts) by `npm run docs:errors`; a test',
    'fails when the two differ. Codes are stable: a code is never renamed or reused.',
    '',
    'Every error on the wire has the shape `{ "code", "message", "message_zh", "details" }`:',
    'on MQTT it is published to `dev/{deviceId}/err`, over HTTP it is the body',
    '`{ "error": { … } }` with the status below. `{name}` placeholders are filled from `details`.',
    '',
    '| Code | HTTP | English | 中文 |',
    '|---|---|---|---|',
    ...rows,
    '',
    '## Reserved codes',
    '',
    'Nothing produces these today; they stay in the catalogue because a code is never reused.',
    '',
    ...Object.entries(ERRORS).flatMap(([code, spec]: [string, ErrorSpec]) => (spec.reserved === undefined ? [] : [`- \`${code}\`: ${spec.reserved}.`])),
    '',
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc());
}
