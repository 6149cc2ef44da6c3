// The packing-station screen: /ui/station/:stationId, or /ui/station for the station of the
// screen's token (docs/ui.md). Big type, readable from
// 1.5 m; live from /ui/live; actions through the HTTP API with the screen's token.
import { beep } from './js/beep.js';
import { openForm } from './js/dialog.js';
import { h, mount, requestId, store } from './js/dom.js';
import { lang, msg, onLang, setLang, t } from './js/i18n.js';
import { connectLive } from './js/live.js';
import { api, askToken, forgetToken, token } from './js/session.js';

let stationId = document.body.dataset.station;
const state = store({ conn: 'connecting', view: null, devices: [], link: null, note: null });

/** What takes the whole screen: an intercept or a label that must be pulled (red), a hold (amber). */
function severity(v) {
  if (!v) return null;
  if (v.state === 'intercepted') return 'intercept';
  if (v.alert?.level === 'alert') return 'alert';
  if (v.state === 'held') return 'hold';
  return null;
}

function labelStatus(v) {
  if (!v || v.label === null) return 'none';
  if (v.alert?.code === 'PKL_PRINT_FAILED') return 'failed';
  if (v.state === 'shipped' || v.state === 'printed') return 'printed';
  if (v.state === 'labelling') return 'printing';
  return 'none';
}

// ---- the parts that are built once (inputs keep focus and text across redraws) ----------

const header = h('header', { class: 'bar' });
const connBanner = h('div', { class: 'conn-banner', id: 'conn-banner', role: 'alert', hidden: true });
const main = h('main', { class: 'station', id: 'main' });
const overlay = h('section', { class: 'overlay', id: 'alert', role: 'alert', hidden: true });
const manual = h('input', { id: 'manual', name: 'code', autocomplete: 'off', spellcheck: false, maxLength: 64, enterkeyhint: 'send' });
const manualBtn = h('button', { type: 'submit', class: 'primary' });
const noteEl = h('p', { class: 'note', id: 'note', role: 'status' });
const reprintBtn = h('button', { type: 'button', id: 'reprint', onclick: () => openReprint() });
const langBtn = h('button', { type: 'button', class: 'lang', id: 'lang', onclick: () => setLang(lang() === 'zh' ? 'en' : 'zh') });
const footer = h(
  'footer',
  { class: 'bar bottom' },
  h('form', { class: 'manual', onsubmit: (e) => (e.preventDefault(), sendManual()) }, manual, manualBtn),
  noteEl,
  reprintBtn,
);
document.body.append(header, connBanner, main, overlay, footer);

/** The footer line; `text` may be a function so it follows the language toggle. */
function note(text, kind = 'info') {
  state.set({ note: { text, kind, at: Date.now() } });
}

async function sendManual() {
  const code = manual.value.trim();
  if (code === '') return;
  manual.value = '';
  try {
    const r = await api('POST', `/api/v1/stations/${encodeURIComponent(stationId)}/scan`, { code });
    state.set({ view: r.view });
    note(`✓ ${code}`, 'good');
  } catch (err) {
    if (err.status === 401) return relogin();
    // The station shows the same refusal as an alert; the note says which code it was.
    note(() => `${code}: ${msg(err)}`, 'bad');
  }
  manual.focus();
}

function openReprint() {
  const v = state.get().view;
  if (!v?.shipment_id || v.label === null) return note(t('nothing_to_reprint'), 'bad');
  const shipmentId = v.shipment_id;
  const rid = requestId('reprint'); // one id per dialog: a double submit never prints twice
  openForm({
    id: 'reprint-dialog',
    title: `${t('reprint_title')} · ${v.waybill ?? shipmentId}`,
    fields: [
      { name: 'supervisor', label: t('supervisor'), maxLength: 64 },
      { name: 'password', label: t('password'), type: 'password', maxLength: 256 },
      { name: 'note', label: t('note'), required: false },
    ],
    submit: async ({ supervisor, password, note: why }) => {
      const body = { supervisor, password, request_id: rid };
      if (why) body.note = why;
      const r = await api('POST', `/api/v1/shipments/${encodeURIComponent(shipmentId)}/reprint`, body);
      const text = t('reprinted', { job: r.job_id });
      note(text, 'good');
      return text;
    },
  });
}

// ---- drawing ------------------------------------------------------------------------------

function pill(cls, text, id) {
  return h('span', { class: ['pill', cls], id }, text);
}

function renderHeader(s) {
  const v = s.view;
  const link = s.link?.state ?? 'disabled';
  return [
    h('div', { class: 'title' }, h('span', { class: 'muted' }, t('station')), ' ', h('strong', { id: 'station-id' }, stationId)),
    v ? pill(`state-${v.state}`, t(`state_${v.state}`), 'station-state') : null,
    h('div', { class: 'spacer' }),
    h(
      'div',
      { class: 'devices', id: 'devices' },
      s.devices.map((d) =>
        h(
          'span',
          { class: ['dev', d.status], title: `${d.device_id}: ${d.status}${d.reason ? ` (${d.reason})` : ''}`, dataset: { device: d.device_id } },
          t(d.role),
          d.status === 'online' ? null : ` · ${t(d.status)}`,
          d.media && d.media !== 'ok' ? ` · ${d.media}` : null,
        ),
      ),
    ),
    pill(`cloud-${link}`, `${t('cloud')}: ${t(`cloud_${link}`)}`, 'cloud'),
    pill(`conn-${s.conn}`, t(s.conn === 'live' ? 'live' : s.conn === 'connecting' ? 'connecting' : 'reconnecting'), 'conn'),
    langBtn,
  ];
}

/** Labels to pull (the gateway's recall list, docs/mqtt.md §10): how many, and the first waybills. */
function recallStrip(r) {
  if (!r || r.open === 0) return null;
  const head = lang() === 'zh' ? `待撕下面单 ${r.open} 张` : `${r.open} label${r.open === 1 ? '' : 's'} to pull`;
  return h(
    'div',
    { class: ['message', 'lvl-warn'], id: 'recalls', dataset: { open: String(r.open) } },
    `${head}: ${r.items.map((i) => i.waybill).join(' · ')}`,
  );
}

// Presale parcels to unpack (docs/packing-modes.md "Presale"): orders stopped before their
// payment; their staging labels are refused at the scan, so the packer must see the list.
function presaleStrip(p) {
  if (!p || p.unpack === 0) return null;
  const head = lang() === 'zh' ? `待拆包预售包裹 ${p.unpack} 个` : `${p.unpack} presale parcel${p.unpack === 1 ? '' : 's'} to unpack`;
  return h(
    'div',
    { class: ['message', 'lvl-warn'], id: 'presale-unpack', dataset: { unpack: String(p.unpack) } },
    `${head}: ${p.unpack_list.map((i) => `STG-${i.staging_id} (${i.order_id})`).join(' · ')}`,
  );
}

function renderMain(s) {
  const v = s.view;
  if (!v) return h('div', { class: 'waiting' }, t('connecting'));
  const alert = v.alert && v.alert.level !== 'alert' ? h('div', { class: ['message', `lvl-${v.alert.level}`], id: 'message' }, msg(v.alert)) : null;
  // Picking (docs/picking.md): the slot of the unit a PDA of this station just sorted.
  const sorted = v.picking?.sorted;
  const sort = sorted
    ? h('div', { class: ['message', 'lvl-info'], id: 'sort-slot' }, t('sort_to_slot', { item: sorted.item, slot: sorted.slot, order: sorted.order_id }))
    : null;
  const recalls = recallStrip(v.recalls);
  const unpack = presaleStrip(v.presale);
  if (v.order_id === null) {
    return [recalls, unpack, alert, sort, h('div', { class: 'idle', id: 'idle' }, t('idle'))];
  }
  const picked = v.picking?.order;
  const w = v.weight;
  const diff = w && v.expected_grams !== null ? Math.round(w.grams - v.expected_grams) : null;
  const ls = labelStatus(v);
  return [
    recalls,
    unpack,
    alert,
    sort,
    h(
      'div',
      { class: 'cols' },
      h(
        'section',
        { class: 'card order' },
        h('div', { class: 'label-sm' }, t('order')),
        h('div', { class: 'order-id', id: 'order-id' }, v.order_id),
        picked ? h('div', { class: 'sku', id: 'picked-slot' }, t('picked_slot', { wave: picked.wave_id, slot: picked.slot })) : null,
        h(
          'table',
          { class: 'lines', id: 'lines' },
          h('thead', null, h('tr', null, h('th', null, t('item')), h('th', { class: 'num' }, t('qty')), h('th', null, ''))),
          h(
            'tbody',
            null,
            v.lines.map((l) => {
              const done = l.scanned >= l.qty;
              return h(
                'tr',
                { class: done ? 'done' : 'todo', dataset: { barcode: l.barcode } },
                h('td', null, h('div', { class: 'name' }, l.name), h('div', { class: 'sku' }, `${l.sku} · ${l.barcode}`)),
                h('td', { class: 'num' }, `${l.scanned}/${l.qty}`),
                h('td', { class: 'tick' }, done ? '✓' : ''),
              );
            }),
          ),
        ),
      ),
      h(
        'section',
        { class: 'side' },
        h(
          'div',
          { class: ['card', 'weight', w?.stable ? 'stable' : 'unstable'], id: 'weight-card' },
          h('div', { class: 'label-sm' }, t('weight')),
          h('div', { class: 'grams', id: 'weight' }, w ? `${Math.round(w.grams)} g` : '—'),
          h('div', { class: 'stability', id: 'stability' }, w ? (w.stable ? `● ${t('stable')}` : `○ ${t('settling')}`) : t('no_reading')),
          h(
            'dl',
            null,
            h('dt', null, t('expected')),
            h('dd', { id: 'expected' }, v.expected_grams === null ? '—' : `${Math.round(v.expected_grams)} g`),
            h('dt', null, t('difference')),
            h(
              'dd',
              { id: 'difference', class: diff === null ? '' : Math.abs(diff) > 0.1 * (v.expected_grams || 1) ? 'bad' : 'good' },
              diff === null ? '—' : `${diff > 0 ? '+' : ''}${diff} g`,
            ),
          ),
        ),
        h(
          'div',
          { class: ['card', 'labelcard', `label-${ls}`], id: 'label-card', dataset: { status: ls } },
          h('div', { class: 'label-sm' }, t('label')),
          h('div', { class: 'label-status', id: 'label-status' }, ls === 'printed' ? `✓ ${t('label_printed')}` : t(`label_${ls}`)),
          h('div', { class: 'waybill' }, v.waybill ? `${v.carrier ?? ''} ${v.waybill}` : `${t('waybill')}: —`),
        ),
      ),
    ),
  ];
}

function renderOverlay(s) {
  const v = s.view;
  const sev = severity(v);
  overlay.hidden = sev === null;
  overlay.className = `overlay ${sev === 'hold' ? 'amber' : 'red'}`;
  overlay.dataset.severity = sev ?? 'none';
  document.body.dataset.severity = sev ?? 'none';
  if (sev === null) return [];
  const title = sev === 'intercept' ? t('intercepted_title') : sev === 'hold' ? t('hold_title') : t('alert_title');
  const hint = sev === 'hold' ? t('hold_hint') : sev === 'intercept' ? t('intercept_hint') : null;
  return [
    h('div', { class: 'overlay-title' }, title),
    h('div', { class: 'overlay-message', id: 'alert-message' }, v.alert ? msg(v.alert) : v.state),
    v.alert?.code ? h('div', { class: 'overlay-code' }, v.alert.code) : null,
    v.order_id ? h('div', { class: 'overlay-order' }, `${t('order')} ${v.order_id}`) : null,
    hint ? h('div', { class: 'overlay-hint' }, hint) : null,
    // A hold is released here with the supervisor's password (POST …/release, the same guard
    // and lockout as reprints); the dashboard can release it with the admin token.
    sev === 'hold' ? h('button', { type: 'button', class: 'overlay-action', id: 'release', onclick: () => openRelease() }, t('release_here')) : null,
  ];
}

function openRelease() {
  openForm({
    id: 'release-dialog',
    title: `${t('release_title')} · ${stationId}`,
    fields: [
      { name: 'supervisor', label: t('supervisor'), maxLength: 64 },
      { name: 'password', label: t('password'), type: 'password', maxLength: 256 },
      { name: 'note', label: t('note'), required: false },
    ],
    submit: async ({ supervisor, password, note: why }) => {
      const body = { supervisor, password };
      if (why) body.note = why;
      const r = await api('POST', `/api/v1/stations/${encodeURIComponent(stationId)}/release`, body);
      state.set({ view: r.view });
      const text = t('done');
      note(text, 'good');
      return text;
    },
  });
}

let lastBeepKey = '';
function sound(v) {
  const sev = severity(v);
  if (sev === null) {
    lastBeepKey = '';
    return;
  }
  // Once per alert, not on every redraw of the same one.
  const key = `${sev}|${v.shipment_id}|${v.alert?.code ?? ''}`;
  if (key === lastBeepKey) return;
  lastBeepKey = key;
  beep(sev);
}

let lastShipped = '';
function chirp(v) {
  if (v?.state === 'shipped' && v.shipment_id !== lastShipped) {
    lastShipped = v.shipment_id;
    beep('ok');
  }
}

function render(s) {
  document.body.dataset.conn = s.conn;
  document.title = `${stationId} · Packline`;
  mount(header, () => renderHeader(s));
  mount(main, () => renderMain(s));
  mount(overlay, () => renderOverlay(s));
  connBanner.hidden = s.conn === 'live';
  connBanner.textContent = s.conn === 'unknown' ? `${t('unknown_station')}: ${stationId}` : t('reconnecting_long');
  manual.placeholder = t('manual_placeholder');
  manualBtn.textContent = t('manual_send');
  reprintBtn.textContent = t('reprint');
  reprintBtn.disabled = !s.view?.shipment_id || s.view.label === null;
  langBtn.textContent = lang() === 'zh' ? 'EN' : '中文';
  noteEl.textContent = typeof s.note?.text === 'function' ? s.note.text() : (s.note?.text ?? '');
  noteEl.className = `note ${s.note?.kind ?? ''}`;
}

state.subscribe(render);
onLang(() => state.set({}));

// ---- live ---------------------------------------------------------------------------------

let live = null;
async function relogin(refused = true) {
  live?.stop();
  forgetToken();
  await askToken(refused);
  start();
}

async function start() {
  if (!stationId) {
    // /ui/station: the station is the one the token is limited to (GET /api/v1/token).
    let me = null;
    try {
      me = await api('GET', '/api/v1/token');
    } catch (err) {
      if (err.status === 401) return void relogin(true);
      state.set({ conn: 'unknown' });
      return;
    }
    if (!me.station) {
      state.set({ conn: 'unknown', note: { kind: 'bad', text: () => t('token_not_station') } });
      return;
    }
    stationId = me.station;
  }
  live = connectLive({
    hello: { station: stationId },
    onStatus: (conn) => {
      if (conn === 'unauthorized') return void relogin(true);
      state.set({ conn });
    },
    onMessage: (m) => {
      if (m.type === 'view') {
        state.set({ view: m.view });
        sound(m.view);
        chirp(m.view);
      } else if (m.type === 'devices') state.set({ devices: m.devices });
      else if (m.type === 'link') state.set({ link: m.link });
    },
  });
}

// Keyboard-wedge scanners type into whatever has focus: keep it on the fallback input.
document.addEventListener('keydown', (e) => {
  if (document.querySelector('dialog[open]') || e.target === manual) return;
  if (e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) manual.focus();
});

if (token()) start();
else askToken(false).then(start);
manual.focus();
