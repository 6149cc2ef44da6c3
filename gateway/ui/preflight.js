// The preflight page: /ui/preflight renders GET /api/v1/preflight (docs/ui.md), the same
// checklist `packline preflight` prints: pass / warn / fail per check, worst one on top.
import { fmtTime, h, mount, store } from './js/dom.js';
import { lang, onLang, setLang, t } from './js/i18n.js';
import { api, askToken, forgetToken, token } from './js/session.js';

const state = store({ report: null, running: false, error: null, missing: false });
const header = h('header', { class: 'bar' });
const body = h('main', { class: 'preflight', id: 'preflight' });
const langBtn = h('button', { type: 'button', class: 'lang', id: 'lang', onclick: () => setLang(lang() === 'zh' ? 'en' : 'zh') });
document.body.append(header, body);

async function run(testPrint = false) {
  state.set({ running: true, error: null });
  try {
    const report = testPrint ? await api('POST', '/api/v1/preflight', { test_print: true }) : await api('GET', '/api/v1/preflight');
    state.set({ report, running: false, missing: false });
  } catch (err) {
    if (err.status === 401) {
      forgetToken();
      await askToken(true);
      return run(testPrint);
    }
    state.set({ running: false, missing: err.status === 404, error: err });
  }
}

function render(s) {
  const r = s.report;
  langBtn.textContent = lang() === 'zh' ? 'EN' : '中文';
  mount(header, () => [
    h('div', { class: 'title' }, h('strong', null, 'Packline'), ' ', h('span', { class: 'muted' }, `${t('preflight')} · ${document.body.dataset.gateway}`)),
    h('div', { class: 'spacer' }),
    h('a', { class: 'pill', href: '/ui/dashboard' }, t('dashboard')),
    langBtn,
  ]);
  document.body.dataset.status = r?.status ?? (s.missing ? 'missing' : 'none');
  mount(body, () => [
    h('h1', null, t('preflight_title')),
    h(
      'div',
      { class: 'buttons left' },
      h('button', { type: 'button', class: 'primary', id: 'run', disabled: s.running, onclick: () => run(false) }, s.running ? t('running') : t('run_again')),
      h('button', { type: 'button', id: 'run-print', disabled: s.running, onclick: () => run(true) }, t('test_print')),
    ),
    s.missing
      ? h('p', { class: 'bad', id: 'missing' }, t('preflight_missing'))
      : s.error
        ? h('p', { class: 'bad' }, `${s.error.code}: ${s.error.message}`)
        : null,
    r
      ? [
          h(
            'div',
            { class: ['verdict', r.status], id: 'verdict' },
            t(`status_${r.status}`),
            h('span', { class: 'muted' }, ` · ${t('generated', { time: fmtTime(r.generatedAt ?? r.generated_at ?? Date.now(), true) })}`),
          ),
          h(
            'table',
            { class: 'grid checks', id: 'checks' },
            h(
              'tbody',
              null,
              [...r.checks]
                .sort((a, b) => rank(b.status) - rank(a.status))
                .map((c) =>
                  h(
                    'tr',
                    { class: c.status, dataset: { check: c.id, status: c.status } },
                    h('td', { class: 'status' }, h('span', { class: ['badge', c.status] }, t(`status_${c.status}`))),
                    h('td', null, h('div', { class: 'check-title' }, c.title), h('pre', { class: 'detail' }, c.detail)),
                  ),
                ),
            ),
          ),
        ]
      : null,
  ]);
}

function rank(s) {
  return s === 'fail' ? 2 : s === 'warn' ? 1 : 0;
}

state.subscribe(render);
onLang(() => state.set({}));
if (token()) run();
else askToken(false).then(() => run());
