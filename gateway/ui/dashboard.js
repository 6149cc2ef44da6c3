// The supervisor / wall dashboard: /ui/dashboard (docs/ui.md). Figures from /ui/live (the
// same JSON as GET /api/v1/dashboard); actions through the HTTP API (admin token).
import { openForm } from './js/dialog.js';
import { fmtDuration, fmtTime, h, mount, requestId, store } from './js/dom.js';
import { lang, msg, onLang, setLang, t } from './js/i18n.js';
import { connectLive } from './js/live.js';
import { opsPanel } from './js/ops-panel.js';
import { peakPanel } from './js/peak-panel.js';
import { presalePanel } from './js/presale-panel.js';
import { api, askToken, forgetToken, token } from './js/session.js';

const state = store({ conn: 'connecting', data: null, role: null, note: null });

const outage = h('div', { class: 'outage', id: 'outage', role: 'alert', hidden: true });
const connBanner = h('div', { class: 'conn-banner', id: 'conn-banner', role: 'alert', hidden: true });
const header = h('header', { class: 'bar' });
const tiles = h('section', { class: 'tiles', id: 'tiles' });
const throughput = h('section', { class: 'card', id: 'throughput' });
const devices = h('section', { class: 'card', id: 'device-grid' });
const queue = h('section', { class: 'card', id: 'exceptions' });
const picking = h('section', { class: 'card', id: 'picking' });
const noteEl = h('p', { class: 'note', id: 'note', role: 'status' });
const langBtn = h('button', { type: 'button', class: 'lang', id: 'lang', onclick: () => setLang(lang() === 'zh' ? 'en' : 'zh') });
const peak = peakPanel();
const presale = presalePanel();
const ops = opsPanel();
document.body.append(outage, connBanner, header, tiles, h('div', { class: 'grid2' }, throughput, devices), queue, picking, peak.el, presale.el, ops.el, noteEl);

function note(text, kind) {
  state.set({ note: { text, kind } });
}

async function act(fn) {
  try {
    note(await fn(), 'good');
  } catch (err) {
    if (err.status === 401) return relogin();
    note(err.status === 403 ? `${t('admin_needed')} (${err.code})` : `${err.code}: ${msg(err)}`, 'bad');
  }
}

function release(item) {
  openForm({
    id: 'release-dialog',
    title: `${t('release_title')} · ${item.station_id} · ${item.order_id}`,
    fields: [
      { name: 'supervisor', label: t('supervisor'), maxLength: 64 },
      { name: 'note', label: t('note'), required: false },
    ],
    submit: async ({ supervisor, note: why }) => {
      const body = { supervisor };
      if (why) body.note = why;
      await api('POST', `/api/v1/stations/${encodeURIComponent(item.station_id)}/override`, body);
      return t('done');
    },
  });
}

function reprint(item) {
  const rid = requestId('reprint');
  openForm({
    id: 'reprint-dialog',
    title: `${t('reprint_title')} · ${item.shipment_id}`,
    fields: [
      { name: 'supervisor', label: t('supervisor'), maxLength: 64 },
      { name: 'password', label: t('password'), type: 'password', maxLength: 256 },
      { name: 'note', label: t('note'), required: false },
    ],
    submit: async ({ supervisor, password, note: why }) => {
      const body = { supervisor, password, request_id: rid };
      if (why) body.note = why;
      const r = await api('POST', `/api/v1/shipments/${encodeURIComponent(item.shipment_id)}/reprint`, body);
      return t('reprinted', { job: r.job_id });
    },
  });
}

function retry(seqs) {
  return act(async () => {
    const r = await api('POST', '/api/v1/sync/failures/retry', { seqs });
    return `${t('done')}: ${r.requested.length}`;
  });
}

// ---- drawing ------------------------------------------------------------------------------

function tile(id, label, value, sub, cls) {
  return h(
    'div',
    { class: ['tile', cls], id },
    h('div', { class: 'tile-label' }, label),
    h('div', { class: 'tile-value' }, value),
    sub ? h('div', { class: 'tile-sub' }, sub) : null,
  );
}

function renderTiles(d) {
  const s = d.sync;
  const cov = d.waybill_coverage;
  const open = Object.values(d.exceptions.counts).reduce((a, b) => a + b, 0);
  return [
    tile('tile-parcels', t('parcels_hour'), d.throughput.last_hour, null, 'big'),
    tile('tile-rate', t('rate_hour'), d.throughput.rate_per_hour, null, ''),
    tile('tile-intercepts', t('intercepts_hour'), d.throughput.intercepts_last_hour, null, d.throughput.intercepts_last_hour > 0 ? 'warn' : ''),
    tile(
      'tile-sync',
      t('sync_link'),
      t(`cloud_${s.state}`),
      s.transport !== 'none' ? s.transport : null,
      ['text', s.outage ? 'bad' : s.state === 'online' ? 'good' : ''].join(' '),
    ),
    tile('tile-backlog', t('backlog'), s.backlog, `${t('lag')}: ${fmtDuration(s.lag_seconds)}`, s.backlog > 1000 ? 'warn' : ''),
    tile('tile-coverage', t('coverage'), `${cov.percent}%`, t('coverage_detail', { with: cov.with_waybill, open: cov.open }), cov.alarm ? 'bad' : 'good'),
    tile('tile-exceptions', t('exceptions_open'), open, null, open > 0 ? 'warn' : 'good'),
  ];
}

function spark(slots) {
  const max = Math.max(1, ...slots);
  return h(
    'div',
    { class: 'spark' },
    slots.map((n) => h('span', { title: String(n), style: { height: `${Math.round((n / max) * 100)}%` } })),
  );
}

function renderThroughput(d) {
  return [
    h('h2', null, t('throughput')),
    h(
      'table',
      { class: 'grid' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', null, t('unit')),
          h('th', null, t('state')),
          h('th', { class: 'num' }, t('last_hour')),
          h('th', { class: 'num' }, t('per_hour')),
          h('th', null, t('trend')),
        ),
      ),
      h(
        'tbody',
        null,
        d.throughput.units.map((u) =>
          h(
            'tr',
            { dataset: { unit: u.id } },
            h('td', null, h('a', { href: u.kind === 'station' ? `/ui/station/${encodeURIComponent(u.id)}` : null }, u.id)),
            h('td', null, u.state ? h('span', { class: ['pill', `state-${u.state}`] }, t(`state_${u.state}`)) : t('conveyor')),
            h('td', { class: 'num count' }, u.last_hour),
            h('td', { class: 'num' }, u.rate_per_hour),
            h('td', null, spark(u.per_5min)),
          ),
        ),
      ),
    ),
  ];
}

function renderDevices(d) {
  return [
    h('h2', null, t('devices')),
    h(
      'div',
      { class: 'devgrid' },
      d.devices.map((x) =>
        h(
          'div',
          { class: ['devcard', x.status], dataset: { device: x.device_id, status: x.status }, title: x.reason ?? '' },
          h('div', { class: 'devid' }, x.device_id),
          h('div', { class: 'devrole' }, `${t(x.role)}${x.station ? ` · ${x.station}` : ''}`),
          h('div', { class: 'devstatus' }, t(x.status), x.media ? ` · ${t('media')}: ${x.media}` : null, x.reason && !x.media ? ` · ${x.reason}` : null),
        ),
      ),
    ),
  ];
}

function renderQueue(d) {
  const items = d.exceptions.items;
  const failed = items.filter((i) => i.kind === 'sync_failure' && i.actions.includes('retry')).map((i) => i.seq);
  return [
    h(
      'h2',
      null,
      t('exceptions'),
      ' ',
      h('span', { class: 'muted' }, `(${items.length})`),
      failed.length > 1 ? h('button', { type: 'button', class: 'small', onclick: () => retry([]) }, t('retry_all')) : null,
    ),
    items.length === 0
      ? h('p', { class: 'muted' }, t('none'))
      : h(
          'table',
          { class: 'grid queue' },
          h(
            'thead',
            null,
            h('tr', null, h('th', null, t('when')), h('th', null, ''), h('th', null, t('station')), h('th', null, t('what')), h('th', null, t('action'))),
          ),
          h(
            'tbody',
            null,
            items.map((i) =>
              h(
                'tr',
                { dataset: { kind: i.kind, key: i.key } },
                h('td', null, fmtTime(i.at)),
                h('td', null, h('span', { class: ['badge', i.kind] }, t(`kind_${i.kind}`))),
                h('td', null, i.station_id ?? '—'),
                h('td', null, h('div', null, msg(i)), h('div', { class: 'sku' }, [i.order_id, i.shipment_id, i.code].filter(Boolean).join(' · '))),
                h(
                  'td',
                  { class: 'actions' },
                  i.actions.includes('release')
                    ? h('button', { type: 'button', onclick: () => release(i), dataset: { action: 'release' } }, t('act_release'))
                    : null,
                  i.actions.includes('reprint')
                    ? h('button', { type: 'button', onclick: () => reprint(i), dataset: { action: 'reprint' } }, t('act_reprint'))
                    : null,
                  i.actions.includes('retry')
                    ? h('button', { type: 'button', onclick: () => retry([i.seq]), dataset: { action: 'retry' } }, t('act_retry'))
                    : null,
                ),
              ),
            ),
          ),
        ),
  ];
}

// ---- picking (docs/picking.md): polled from the API, the figures live in the picking runtime --

const pick = store({ summary: null, shorts: [], reps: [] });

async function pollPicking() {
  try {
    const [summary, shorts, reps] = await Promise.all([
      api('GET', '/api/v1/picking/summary'),
      api('GET', '/api/v1/picking/shorts'),
      api('GET', '/api/v1/replenishments'),
    ]);
    pick.set({ summary, shorts: shorts.shorts.filter((x) => x.state === 'held'), reps: reps.replenishments.filter((r) => r.state !== 'done') });
  } catch {
    // The live feed's banner says when the gateway is away; the panel keeps its last figures.
  }
}

function decideShort(orderId, action) {
  openForm({
    id: 'short-dialog',
    title: `${t(action === 'release' ? 'act_release_short' : 'act_cancel_short')} · ${orderId}`,
    fields: [{ name: 'supervisor', label: t('supervisor'), maxLength: 64 }],
    submit: async ({ supervisor }) => {
      await api('POST', `/api/v1/picking/shorts/${encodeURIComponent(orderId)}`, { action, supervisor });
      void pollPicking();
      return t('done');
    },
  });
}

function renderPicking(p) {
  const s = p.summary;
  if (s === null) return [h('h2', null, t('picking')), h('p', { class: 'muted' }, '…')];
  return [
    h('h2', null, t('picking')),
    h(
      'div',
      { class: 'tiles' },
      tile('pick-open', t('waves_open'), String(s.waves.open)),
      tile('pick-picking', t('waves_picking'), String(s.waves.picking)),
      tile('pick-closed', t('waves_closed'), String(s.waves.closed)),
      tile('pick-units', t('units_picked'), `${s.picked} / ${s.units}`),
      tile('pick-shorts', t('short_picks'), String(s.shorts), null, s.shorts > 0 ? 'warn' : null),
      tile('pick-reps', t('replenishment_queue'), String(s.replenishments)),
    ),
    p.shorts.length === 0
      ? null
      : h(
          'table',
          { class: 'grid queue', id: 'pick-shorts-table' },
          h(
            'tbody',
            null,
            p.shorts.map((x) =>
              h(
                'tr',
                { dataset: { order: x.order_id } },
                h('td', null, x.order_id),
                h('td', null, x.lines.map((l) => `${l.location} ${l.sku} −${l.missing} (${l.reason})`).join('; ')),
                h(
                  'td',
                  { class: 'actions' },
                  h('button', { type: 'button', onclick: () => decideShort(x.order_id, 'release') }, t('act_release_short')),
                  h('button', { type: 'button', onclick: () => decideShort(x.order_id, 'cancel') }, t('act_cancel_short')),
                ),
              ),
            ),
          ),
        ),
    p.reps.length === 0
      ? null
      : h(
          'table',
          { class: 'grid', id: 'pick-reps-table' },
          h(
            'tbody',
            null,
            p.reps.map((r) =>
              h('tr', null, h('td', null, r.location), h('td', null, r.sku), h('td', null, `+${r.qty}`), h('td', null, r.state), h('td', null, r.from ?? '—')),
            ),
          ),
        ),
    s.pickers.length === 0
      ? null
      : h(
          'p',
          { class: 'muted', id: 'pickers' },
          `${t('pickers')}: `,
          s.pickers.map((x) => `${x.device_id} ${x.lines} (${x.lines_per_hour ?? '—'} ${t('lines_per_hour')})`).join(' · '),
        ),
  ];
}

pick.subscribe((p) => mount(picking, () => renderPicking(p)));

function render(s) {
  document.body.dataset.conn = s.conn;
  const d = s.data;
  connBanner.hidden = s.conn === 'live';
  connBanner.textContent = t('reconnecting_long');
  langBtn.textContent = lang() === 'zh' ? 'EN' : '中文';
  mount(header, () => [
    h(
      'div',
      { class: 'title' },
      h('strong', null, 'Packline'),
      ' ',
      h('span', { class: 'muted' }, `${t('dashboard')} · ${d?.gateway_id ?? document.body.dataset.gateway}`),
    ),
    h('div', { class: 'spacer' }),
    d ? h('span', { class: 'muted', id: 'updated' }, t('updated', { time: fmtTime(d.generated_at, true) })) : null,
    h('a', { class: 'pill', href: '/ui/preflight' }, t('preflight')),
    h('span', { class: ['pill', `conn-${s.conn}`], id: 'conn' }, t(s.conn === 'live' ? 'live' : 'reconnecting')),
    langBtn,
  ]);
  noteEl.textContent = s.note?.text ?? '';
  noteEl.className = `note ${s.note?.kind ?? ''}`;
  if (!d) return;
  outage.hidden = !d.sync.outage;
  const downFor = Math.max(0, (d.generated_at - d.sync.since) / 1000);
  outage.textContent =
    d.sync.state === 'contract_error'
      ? t('contract_outage', { since: fmtTime(d.sync.since), cause: d.sync.last_error ?? '?', backlog: d.sync.backlog })
      : t('outage', { since: fmtTime(d.sync.since), for: fmtDuration(downFor), backlog: d.sync.backlog });
  mount(tiles, () => renderTiles(d));
  mount(throughput, () => renderThroughput(d));
  mount(devices, () => renderDevices(d));
  mount(queue, () => renderQueue(d));
}

state.subscribe(render);
onLang(() => {
  state.set({});
  peak.render();
  presale.render();
  ops.render();
});

let live = null;
async function relogin() {
  live?.stop();
  forgetToken();
  await askToken(true);
  start();
}

let peakTimer = null;
let opsTimer = null;
function start() {
  void pollPicking();
  setInterval(pollPicking, 5000);
  peak.refresh();
  presale.refresh();
  if (peakTimer === null)
    peakTimer = setInterval(() => {
      peak.refresh();
      presale.refresh();
    }, 10_000);
  ops.refresh();
  if (opsTimer === null) opsTimer = setInterval(() => ops.refresh(), 5_000);
  live = connectLive({
    hello: { dashboard: true },
    onStatus: (conn) => {
      if (conn === 'unauthorized') return void relogin();
      state.set({ conn });
    },
    onMessage: (m) => {
      if (m.type === 'welcome') state.set({ role: m.role });
      else if (m.type === 'dashboard') state.set({ data: m.data });
    },
  });
}

if (token()) start();
else askToken(false).then(start);
