/**
 * What keeps a Node.js process alive: the event loop's ref'd handles (sockets, servers,
 * timers, child processes, worker threads), described for a log line. Used after a graceful
 * stop that did not let the process end on its own, so the leak can be named and fixed.
 *
 * `process.getActiveResourcesInfo()` (Node.js ≥ 17, documented) gives the kinds; the
 * undocumented `process._getActiveHandles()` gives the objects, for addresses and timer
 * durations. Both are only read here.
 */

interface HandleLike {
  constructor?: { name?: string };
  hasRef?: () => boolean;
  remoteAddress?: string;
  remotePort?: number;
  localPort?: number;
  destroyed?: boolean;
  address?: () => unknown;
  _idleTimeout?: number;
  _onTimeout?: { name?: string };
  pid?: number;
  threadId?: number;
}

function describe(h: HandleLike): string {
  const kind = h.constructor?.name ?? typeof h;
  switch (kind) {
    case 'Socket':
    case 'TLSSocket':
      return `${kind} ${h.remoteAddress ?? '?'}:${h.remotePort ?? '?'} (local port ${h.localPort ?? '?'}${h.destroyed ? ', destroyed' : ''})`;
    case 'Server': {
      let a = '';
      try {
        a = JSON.stringify(h.address?.());
      } catch {
        a = '?';
      }
      return `Server ${a}`;
    }
    case 'Timeout':
      return `Timeout ${h._idleTimeout ?? '?'} ms → ${h._onTimeout?.name || '(anonymous)'}`;
    case 'ChildProcess':
      return `ChildProcess pid ${h.pid ?? '?'}`;
    default:
      return kind;
  }
}

/** The ref'd handles keeping the event loop alive, one short description each. */
export function openHandles(): string[] {
  const getHandles = (process as unknown as { _getActiveHandles?: () => HandleLike[] })._getActiveHandles;
  if (typeof getHandles === 'function') {
    return getHandles
      .call(process)
      .filter((h) => typeof h.hasRef !== 'function' || h.hasRef())
      .map(describe);
  }
  return process.getActiveResourcesInfo();
}
