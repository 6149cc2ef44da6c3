// The page's WebSocket to /ui/live: says hello with the token, hands every message to
// onMessage, and reconnects by itself with exponential backoff (0.5 s doubling to 10 s,
// ±20 % jitter so a room of screens does not reconnect in step after a gateway restart).
// The gateway sends a tick every 10 s: 25 s of silence means the socket is dead even if the
// browser has not noticed (Wi-Fi roaming, a NAT dropping the flow), so it is replaced.
import { token } from './session.js';

const MAX_DELAY_MS = 10_000;
const SILENCE_MS = 25_000;

/**
 * connectLive({ hello: { station } | { dashboard: true }, onMessage(msg), onStatus(status) })
 * status: 'connecting' | 'live' | 'reconnecting' | 'unauthorized' | 'unknown'
 */
export function connectLive({ hello, onMessage, onStatus }) {
  let attempt = 0;
  let ws = null;
  let watchdog = null;
  let stopped = false;

  const arm = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => ws?.close(), SILENCE_MS);
  };

  const open = () => {
    onStatus(attempt === 0 ? 'connecting' : 'reconnecting');
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ui/live`;
    ws = new WebSocket(url);
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'hello', token: token() ?? '', ...hello }));
      arm();
    };
    ws.onmessage = (ev) => {
      arm();
      let m;
      try {
        m = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (m.type === 'welcome') {
        attempt = 0;
        onStatus('live');
      }
      onMessage(m);
    };
    ws.onclose = (ev) => {
      clearTimeout(watchdog);
      if (stopped) return;
      // 4403: a station token of another station; like a refused token, the page asks for one.
      if (ev.code === 4401 || ev.code === 4403) return onStatus('unauthorized');
      if (ev.code === 4404) return onStatus('unknown');
      attempt += 1;
      onStatus('reconnecting');
      const base = Math.min(MAX_DELAY_MS, 500 * 2 ** Math.min(attempt - 1, 5));
      setTimeout(open, base * (0.8 + Math.random() * 0.4));
    };
  };
  open();
  return {
    stop() {
      stopped = true;
      ws?.close();
    },
    restart() {
      stopped = false;
      attempt = 0;
      ws?.close();
      if (ws?.readyState === WebSocket.CLOSED) open();
    },
  };
}
