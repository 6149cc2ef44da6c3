// The dashboard's presale card (docs/packing-modes.md "Presale"): parcels packed ahead on the
// presale shelf (not paid yet), paid ones waiting for a scan of their staging label, and the
// unpack list (orders stopped before payment) with a button that records the parcel unpacked.
// Read from the HTTP API every 10 s with the dashboard's token; a read that fails leaves the
// last figures and says so.
import { fmtTime, h, mount } from './dom.js';
import { lang } from './i18n.js';
import { api } from './session.js';

const WORDS = {
  en: {
    title: 'Presale',
    staged: 'On the shelf, unpaid',
    ready: 'Paid: scan the staging label',
    unpack: 'To unpack',
    unpacked: 'Unpacked',
    none: 'no presale parcel',
    stale: 'not updated',
  },
  zh: {
    title: '预售',
    staged: '已暂存，未付尾款',
    ready: '已付款：请扫描暂存标签',
    unpack: '待拆包',
    unpacked: '已拆包',
    none: '无预售包裹',
    stale: '未更新',
  },
};

function w(key) {
  return (WORDS[lang()] ?? WORDS.en)[key];
}

export function presalePanel() {
  const el = h('section', { class: 'card', id: 'presale' });
  let data = null;
  let stale = false;

  async function unpacked(stagingId) {
    try {
      await api('POST', `/api/v1/presale/parcels/${encodeURIComponent(stagingId)}/unpacked`, {});
    } catch {
      stale = true;
    }
    await refresh();
  }

  function render() {
    mount(el, () => {
      if (data === null) return [h('h2', null, w('title')), h('p', { class: 'muted' }, stale ? w('stale') : '…')];
      const { shelf, unpack } = data;
      const tile = (id, label, n, cls) =>
        h('div', { class: ['tile', cls], id }, h('div', { class: 'tile-label' }, label), h('div', { class: 'tile-value' }, String(n)));
      return [
        h('h2', null, w('title'), stale ? h('span', { class: 'muted' }, ` (${w('stale')})`) : null),
        shelf.staged + shelf.ready + shelf.unpack === 0
          ? h('p', { class: 'muted', id: 'presale-none' }, w('none'))
          : h(
              'div',
              { class: 'tiles' },
              tile('presale-staged', w('staged'), shelf.staged, null),
              tile('presale-ready', w('ready'), shelf.ready, shelf.ready > 0 ? 'good' : null),
              tile('presale-unpack', w('unpack'), shelf.unpack, shelf.unpack > 0 ? 'warn' : null),
            ),
        unpack.parcels.length === 0
          ? null
          : h(
              'table',
              { class: 'grid', id: 'presale-unpack-list' },
              h(
                'tbody',
                null,
                unpack.parcels.map((p) =>
                  h(
                    'tr',
                    { dataset: { staging: p.staging_id } },
                    h('td', null, p.staging_barcode),
                    h('td', null, p.order_id),
                    h('td', null, p.unpack_reason ?? ''),
                    h('td', null, fmtTime(p.staged_at)),
                    h('td', { class: 'actions' }, h('button', { type: 'button', onclick: () => unpacked(p.staging_id) }, w('unpacked'))),
                  ),
                ),
              ),
            ),
      ];
    });
  }

  async function refresh() {
    try {
      const [shelf, unpack] = await Promise.all([api('GET', '/api/v1/presale?state=staged'), api('GET', '/api/v1/presale/unpack')]);
      data = { shelf, unpack };
      stale = false;
    } catch {
      stale = true;
    }
    render();
  }

  render();
  return { el, refresh, render };
}
