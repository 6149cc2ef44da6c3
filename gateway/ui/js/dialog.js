// A modal form (<dialog>) for the guarded actions: reprint (supervisor + password), release.
import { h } from './dom.js';
import { msg, t } from './i18n.js';

/**
 * openForm({ title, fields: [{ name, label, type?, required? }], submit: async (values) => text })
 * submit's text (or the coded error it throws) is shown; the dialog closes after success.
 */
export function openForm({ title, fields, submit, id }) {
  const inputs = fields.map((f) =>
    h('input', {
      name: f.name,
      type: f.type ?? 'text',
      required: f.required !== false,
      autocomplete: 'off',
      maxLength: f.maxLength ?? 200,
      value: f.value ?? '',
    }),
  );
  const status = h('p', { class: 'form-status', role: 'status' });
  const ok = h('button', { type: 'submit', class: 'primary' }, t('ok'));
  const dlg = h(
    'dialog',
    { class: 'form', id: id ?? null },
    h(
      'form',
      {
        onsubmit: async (e) => {
          e.preventDefault();
          ok.disabled = true;
          status.className = 'form-status';
          status.textContent = '…';
          const values = Object.fromEntries(inputs.map((i) => [i.name, i.value.trim()]));
          try {
            status.textContent = await submit(values);
            status.classList.add('good');
            setTimeout(() => close(), 1200);
          } catch (err) {
            status.textContent = `${err.code ?? ''} ${msg(err)}`.trim();
            status.classList.add('bad');
            ok.disabled = false;
          }
        },
      },
      h('h2', null, title),
      fields.map((f, i) => h('label', null, f.label, inputs[i])),
      status,
      h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: () => close() }, t('cancel')), ok),
    ),
  );
  const close = () => {
    if (dlg.open) dlg.close();
    dlg.remove();
  };
  dlg.addEventListener('close', () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  inputs[0]?.focus();
  return { close };
}
