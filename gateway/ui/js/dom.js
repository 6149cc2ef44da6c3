// The whole "framework" of the screens (docs/decisions/0008-ui-stack.md): h() builds DOM
// nodes (text is always set as text, never parsed as HTML, so order data cannot inject
// markup), and a store batches updates so many messages in one tick draw once.

/** h('div', { class: 'x', onclick: fn, dataset: { a: 1 } }, child, [children], 'text') */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'style') for (const [p, pv] of Object.entries(v)) el.style.setProperty(p, String(pv));
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children with what render() returns. */
export function mount(el, render) {
  const out = render();
  el.replaceChildren(...[out].flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
}

/** A tiny state store: set() merges and schedules one redraw per microtask. */
export function store(initial) {
  let state = initial;
  let scheduled = false;
  const subs = new Set();
  const flush = () => {
    scheduled = false;
    for (const fn of subs) fn(state);
  };
  return {
    get: () => state,
    set(patch) {
      state = { ...state, ...(typeof patch === 'function' ? patch(state) : patch) };
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    },
    subscribe(fn) {
      subs.add(fn);
      fn(state);
      return () => subs.delete(fn);
    },
  };
}

/** Random id usable as a request id on plain http (crypto.randomUUID needs a secure context). */
export function requestId(prefix = 'ui') {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return `${prefix}-${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

export function fmtTime(ms, withSeconds = false) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}${withSeconds ? `:${p(d.getSeconds())}` : ''}`;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 360) / 10} h`;
}
