// The API token of this screen, the HTTP calls made with it, and the login form.
//
// A page cannot put an Authorization header on a WebSocket, and a cookie would let any
// page on the LAN ride the gateway's API; so the token is pasted once (or handed in the URL
// fragment `#token=…`, which never leaves the browser, for kiosk set-up), kept in
// localStorage, sent as a bearer token on HTTP and in the first WebSocket message.
import { h } from './dom.js';
import { t } from './i18n.js';

const KEY = 'packline.token';

export function token() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    localStorage.setItem(KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return localStorage.getItem(KEY);
}

export function forgetToken() {
  localStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? `HTTP_${status}`;
    this.message_zh = error?.message_zh ?? this.message;
  }
}

/** JSON call to the gateway's API with the screen's token; throws ApiError with the coded error. */
export async function api(method, path, body) {
  const headers = { authorization: `Bearer ${token() ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  let data = null;
  try {
    data = await res.json();
  } catch {
    // empty or not JSON
  }
  if (!res.ok) throw new ApiError(res.status, data?.error);
  return data;
}

/** Shows the token form until a token is saved; resolves once it is. */
export function askToken(refused = false) {
  return new Promise((resolve) => {
    const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true, minLength: 16, id: 'login-token' });
    const dlg = h(
      'dialog',
      { class: 'login', id: 'login' },
      h(
        'form',
        {
          method: 'dialog',
          onsubmit: (e) => {
            e.preventDefault();
            localStorage.setItem(KEY, input.value.trim());
            dlg.close();
            dlg.remove();
            resolve();
          },
        },
        h('h2', null, t('login_title')),
        h('p', null, t('login_text')),
        refused ? h('p', { class: 'bad' }, t('login_bad')) : null,
        h('label', null, t('token'), input),
        h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('save'))),
      ),
    );
    dlg.addEventListener('cancel', (e) => e.preventDefault()); // Esc does not leave a screen without a token
    document.body.append(dlg);
    dlg.showModal();
    input.focus();
  });
}
