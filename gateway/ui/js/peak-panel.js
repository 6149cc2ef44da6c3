// The dashboard's peak-plans card (docs/handover.md): parcels still to hand over per carrier
// (red past the carrier's cut-off), carriers on hold, voided labels to pull, and label rolls
// (yellow low, red used up by the count). Read from the HTTP API every 10 s with the
// dashboard's token; a read that fails leaves the last figures and says so.
import { fmtTime, h, mount } from './dom.js';
import { lang } from './i18n.js';
import { api, token } from './session.js';

const WORDS = {
  en: {
    title: 'Handover · holds · label rolls',
    carrier: 'Carrier',
    pending: 'To hand over',
    overdue: 'Past cut-off',
    cutoff: 'Cut-off',
    held: 'Held',
    recalls: 'Voided labels to pull',
    rolls: 'Label rolls',
    left: 'left',
    none: 'nothing waiting',
    stale: 'not updated',
    manifests: 'Manifests',
    print: 'Print',
    open: 'open',
    closed: 'closed',
  },
  zh: {
    title: '交接 · 暂停快递 · 面单纸',
    carrier: '快递',
    pending: '待交接',
    overdue: '已过截单',
    cutoff: '截单时间',
    held: '已暂停',
    recalls: '待撕下的作废面单',
    rolls: '面单纸',
    left: '剩余',
    none: '无待交接包裹',
    stale: '未更新',
    manifests: '交接单',
    print: '打印',
    open: '进行中',
    closed: '已交接',
  },
};

/**
 * The HTML manifest needs the bearer token, which a plain link cannot send: fetch it and open
 * the page from a blob URL in a new window (the browser's print dialog prints it).
 */
async function printManifest(id) {
  const res = await fetch(`/api/v1/handover/manifests/${encodeURIComponent(id)}/manifest.html`, {
    headers: { authorization: `Bearer ${token() ?? ''}` },
    cache: 'no-store',
  });
  if (!res.ok) return;
  const url = URL.createObjectURL(new Blob([await res.text()], { type: 'text/html' }));
  window.open(url, '_blank');
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function w(key) {
  return (WORDS[lang()] ?? WORDS.en)[key];
}

export function peakPanel() {
  const el = h('section', { class: 'card', id: 'peak-plans' });
  let data = null;
  let stale = false;

  function render() {
    mount(el, () => {
      if (data === null) return [h('h2', null, w('title')), h('p', { class: 'muted' }, stale ? w('stale') : '…')];
      const { handover, holds, rolls, manifests } = data;
      const recent = [...manifests.manifests].sort((a, b) => (b.closed_at ?? b.opened_at) - (a.closed_at ?? a.opened_at)).slice(0, 6);
      const heldSet = new Set(holds.holds.map((x) => x.carrier));
      return [
        h('h2', null, w('title'), stale ? h('span', { class: 'muted' }, ` (${w('stale')})`) : null),
        handover.carriers.length === 0 && holds.holds.length === 0
          ? h('p', { class: 'muted', id: 'handover-none' }, w('none'))
          : h(
              'table',
              { class: 'grid', id: 'handover-carriers' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  h('th', null, w('carrier')),
                  h('th', null, w('pending')),
                  h('th', null, w('overdue')),
                  h('th', null, w('cutoff')),
                  h('th', null, ''),
                ),
              ),
              h(
                'tbody',
                null,
                [...new Set([...handover.carriers.map((c) => c.carrier), ...heldSet])].map((name) => {
                  const c = handover.carriers.find((x) => x.carrier === name) ?? { pending: 0, overdue: 0, cutoff: '' };
                  return h(
                    'tr',
                    { dataset: { carrier: name } },
                    h('td', null, name),
                    h('td', null, String(c.pending)),
                    h('td', { class: c.overdue > 0 ? 'bad' : null }, String(c.overdue)),
                    h('td', null, c.cutoff),
                    h('td', null, heldSet.has(name) ? h('span', { class: ['badge', 'held'] }, w('held')) : null),
                  );
                }),
              ),
            ),
        recent.length > 0
          ? h(
              'div',
              { id: 'handover-manifests' },
              h('h3', null, w('manifests')),
              h(
                'ul',
                null,
                recent.map((m) =>
                  h(
                    'li',
                    { dataset: { manifest: m.manifest_id, state: m.state } },
                    `${m.carrier} · ${m.count}/${m.expected} · ${w(m.state)} · ${fmtTime(m.closed_at ?? m.opened_at)} `,
                    h('button', { type: 'button', class: 'small', onclick: () => printManifest(m.manifest_id) }, w('print')),
                  ),
                ),
              ),
            )
          : null,
        holds.recalls.length > 0
          ? h(
              'div',
              { id: 'carrier-recalls' },
              h('h3', null, `${w('recalls')} (${holds.recalls.length})`),
              h(
                'ul',
                null,
                holds.recalls.map((r) => h('li', null, `${r.waybill} · ${r.order_id} · ${r.from_carrier} → ${r.to_carrier} · ${fmtTime(r.at)}`)),
              ),
            )
          : null,
        rolls.printers.some((p) => p.roll_labels !== null)
          ? h(
              'div',
              { id: 'label-rolls' },
              h('h3', null, w('rolls')),
              h(
                'ul',
                null,
                rolls.printers
                  .filter((p) => p.roll_labels !== null)
                  .map((p) =>
                    h(
                      'li',
                      { class: p.level === 'out' ? 'bad' : p.level === 'low' ? 'warn' : null, dataset: { printer: p.printer_id, level: p.level } },
                      `${p.printer_id}: ${p.left} / ${p.roll_labels} ${w('left')}`,
                    ),
                  ),
              ),
            )
          : null,
      ];
    });
  }

  async function refresh() {
    try {
      const [handover, holds, rolls, manifests] = await Promise.all([
        api('GET', '/api/v1/handover'),
        api('GET', '/api/v1/carriers/holds'),
        api('GET', '/api/v1/consumables'),
        api('GET', '/api/v1/handover/manifests'),
      ]);
      data = { handover, holds, rolls, manifests };
      stale = false;
    } catch {
      stale = true;
    }
    render();
  }

  render();
  return { el, refresh, render };
}
