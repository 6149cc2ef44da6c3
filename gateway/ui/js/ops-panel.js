// The dashboard's peak-operations card with its actions (docs/ui.md, docs/packing-modes.md,
// docs/handover.md): batches and their progress (pre-print the next labels of a pre-print
// batch), the recall list (mark a label pulled), open handover manifests (open one, close
// one), and carriers (hold, release, switch held orders). Everything goes through the
// gateway's own HTTP API with the dashboard's token, so it works with the WAN down; read every
// 5 s and right after an action. Refusals show their code in the form.
import { openForm } from './dialog.js';
import { fmtTime, h, mount, requestId } from './dom.js';
import { lang } from './i18n.js';
import { api } from './session.js';

const WORDS = {
  en: {
    title: 'Batches · recalls · manifests · carriers',
    batches: 'Batches',
    recalls: 'Labels to pull',
    manifests: 'Open manifests',
    carriers: 'Carriers',
    preprint: 'Pre-print next',
    pulled: 'Pulled',
    close: 'Close',
    openManifest: 'Open manifest',
    hold: 'Hold',
    release: 'Release',
    switch: 'Switch…',
    held: 'held',
    none: 'none',
    stale: 'not updated',
    supervisor: 'Supervisor',
    reason: 'Reason',
    to: 'Switch to carrier',
    carrier: 'Carrier',
    done: 'Done',
  },
  zh: {
    title: '波次 · 待召回 · 交接单 · 快递',
    batches: '波次',
    recalls: '待撕下的面单',
    manifests: '进行中的交接单',
    carriers: '快递',
    preprint: '预打印下一批',
    pulled: '已撕下',
    close: '结束交接',
    openManifest: '新建交接单',
    hold: '暂停',
    release: '恢复',
    switch: '改派…',
    held: '已暂停',
    none: '无',
    stale: '未更新',
    supervisor: '主管',
    reason: '原因',
    to: '改派到快递',
    carrier: '快递',
    done: '完成',
  },
};

function w(key) {
  return (WORDS[lang()] ?? WORDS.en)[key];
}

export function opsPanel() {
  const el = h('section', { class: 'card', id: 'ops-panel' });
  let data = null;
  let stale = false;

  /** Runs one action, then reads everything again; a refusal is shown on the button's title. */
  async function act(button, fn) {
    button.disabled = true;
    try {
      await fn();
      button.dataset.result = 'ok';
    } catch (err) {
      button.dataset.result = err.code ?? 'error';
      button.title = `${err.code ?? ''} ${err.message ?? ''}`.trim();
    }
    await refresh();
  }

  function batchRows(batches) {
    const live = batches.filter((b) => b.state === 'open' || b.state === 'working').slice(0, 12);
    if (live.length === 0) return h('p', { class: 'muted', id: 'batches-none' }, w('none'));
    return h(
      'table',
      { class: 'grid', id: 'ops-batches' },
      h(
        'tbody',
        null,
        live.map((b) => {
          const p = b.progress;
          const pct = p.total === 0 ? 0 : Math.round(((p.taken + p.removed) / p.total) * 100);
          return h(
            'tr',
            { dataset: { batch: b.batch_id, state: b.state, mode: b.mode } },
            h('td', null, b.batch_id),
            h('td', null, `${b.mode} · ${b.structure}`),
            h('td', null, b.station_id ?? '—'),
            h('td', { class: 'progress' }, `${p.taken}/${p.total}`),
            h('td', null, p.removed > 0 ? `−${p.removed}` : ''),
            h('td', null, h('progress', { max: 100, value: pct })),
            h(
              'td',
              null,
              b.mode === 'preprint' && b.station_id !== null && p.remaining > 0
                ? h(
                    'button',
                    {
                      type: 'button',
                      class: 'small',
                      dataset: { action: 'preprint' },
                      onclick: (e) => act(e.currentTarget, () => api('POST', `/api/v1/batches/${encodeURIComponent(b.batch_id)}/preprint`, {})),
                    },
                    w('preprint'),
                  )
                : null,
            ),
          );
        }),
      ),
    );
  }

  function recallList(recalls) {
    if (recalls.recalls.length === 0) return h('p', { class: 'muted', id: 'recalls-none' }, w('none'));
    return h(
      'ul',
      { id: 'ops-recalls' },
      recalls.recalls.map((r) =>
        h(
          'li',
          { class: 'warn', dataset: { waybill: r.waybill, kind: r.kind } },
          `${r.waybill} · ${r.order_id} · ${r.code}${r.batch_id ? ` · ${r.batch_id} #${r.seq}` : ''} · ${fmtTime(r.at)} `,
          h(
            'button',
            {
              type: 'button',
              class: 'small',
              dataset: { action: 'pulled' },
              onclick: (e) => act(e.currentTarget, () => api('POST', `/api/v1/recalls/${encodeURIComponent(r.waybill)}/pulled`, { operator: 'dashboard' })),
            },
            w('pulled'),
          ),
        ),
      ),
    );
  }

  function manifestList(manifests) {
    return h(
      'ul',
      { id: 'ops-manifests' },
      manifests.manifests.map((m) =>
        h(
          'li',
          { dataset: { manifest: m.manifest_id, state: m.state } },
          `${m.carrier} · ${m.count}/${m.expected} · ${fmtTime(m.opened_at)} `,
          h(
            'button',
            {
              type: 'button',
              class: 'small',
              dataset: { action: 'close' },
              onclick: (e) =>
                act(e.currentTarget, () => api('POST', `/api/v1/handover/manifests/${encodeURIComponent(m.manifest_id)}/close`, { operator: 'dashboard' })),
            },
            w('close'),
          ),
        ),
      ),
    );
  }

  function form(id, title, fields, submit) {
    openForm({
      id,
      title,
      fields,
      submit: async (values) => {
        await submit(values);
        await refresh();
        return w('done');
      },
    });
  }

  function carrierRows(handover, holds) {
    const heldSet = new Set(holds.holds.map((x) => x.carrier));
    const names = [...new Set([...handover.carriers.map((c) => c.carrier), ...heldSet])].sort();
    const button = (action, label, onclick) => h('button', { type: 'button', class: 'small', dataset: { action }, onclick }, label);
    return h(
      'table',
      { class: 'grid', id: 'ops-carriers' },
      h(
        'tbody',
        null,
        names.map((name) => {
          const held = heldSet.has(name);
          const path = (what) => `/api/v1/carriers/${encodeURIComponent(name)}/${what}`;
          return h(
            'tr',
            { dataset: { carrier: name, held: held ? 'true' : 'false' } },
            h('td', null, name),
            h('td', null, held ? h('span', { class: ['badge', 'held'] }, w('held')) : ''),
            h(
              'td',
              null,
              held
                ? [
                    button('release', w('release'), () =>
                      form('release-carrier-dialog', `${w('release')} ${name}`, [{ name: 'supervisor', label: w('supervisor') }], (v) =>
                        api('POST', path('release'), { supervisor: v.supervisor }),
                      ),
                    ),
                    button('switch', w('switch'), () =>
                      form(
                        'switch-dialog',
                        `${w('switch')} ${name}`,
                        [
                          { name: 'supervisor', label: w('supervisor') },
                          { name: 'to', label: w('to'), maxLength: 64 },
                        ],
                        (v) => api('POST', path('switch'), { supervisor: v.supervisor, to: v.to, request_id: requestId('dash') }),
                      ),
                    ),
                  ]
                : button('hold', w('hold'), () =>
                    form(
                      'hold-dialog',
                      `${w('hold')} ${name}`,
                      [
                        { name: 'supervisor', label: w('supervisor') },
                        { name: 'reason', label: w('reason') },
                      ],
                      (v) => api('POST', path('hold'), { supervisor: v.supervisor, reason: v.reason }),
                    ),
                  ),
              button('open-manifest', w('openManifest'), (e) =>
                act(e.currentTarget, () => api('POST', '/api/v1/handover/manifests', { carrier: name, operator: 'dashboard' })),
              ),
            ),
          );
        }),
      ),
    );
  }

  function render() {
    mount(el, () => {
      if (data === null) return [h('h2', null, w('title')), h('p', { class: 'muted' }, stale ? w('stale') : '…')];
      const { batches, recalls, manifests, handover, holds } = data;
      return [
        h('h2', null, w('title'), stale ? h('span', { class: 'muted' }, ` (${w('stale')})`) : null),
        h('h3', null, w('batches')),
        batchRows(batches.batches),
        h('h3', { id: 'ops-recalls-title', dataset: { open: String(recalls.open) } }, `${w('recalls')} (${recalls.open})`),
        recallList(recalls),
        manifests.manifests.length > 0 ? [h('h3', null, w('manifests')), manifestList(manifests)] : null,
        h('h3', null, w('carriers')),
        carrierRows(handover, holds),
      ];
    });
  }

  async function refresh() {
    try {
      const [batches, recalls, manifests, handover, holds] = await Promise.all([
        api('GET', '/api/v1/batches'),
        api('GET', '/api/v1/recalls'),
        api('GET', '/api/v1/handover/manifests?state=open'),
        api('GET', '/api/v1/handover'),
        api('GET', '/api/v1/carriers/holds'),
      ]);
      data = { batches, recalls, manifests, handover, holds };
      stale = false;
    } catch {
      stale = true;
    }
    render();
  }

  render();
  return { el, refresh, render };
}
