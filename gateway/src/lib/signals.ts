/**
 * A small typed event bus for signals between components that must not know each other
 * (the order import and cloud sync tell the stations that orders changed). Synchronous and
 * in-process: a handler runs inside `emit`, and a throwing handler is logged by the caller's
 * `onError` without stopping the others. Not a queue: nothing is kept for late subscribers.
 */
export interface GatewaySignals {
  /** Orders in the local cache changed (imported, flags from the cloud feed): stations re-check them. */
  ordersChanged: readonly string[];
}

export class Signals<M extends object = GatewaySignals> {
  private readonly handlers = new Map<keyof M, Array<(payload: never) => void>>();

  constructor(private readonly onError: (err: unknown, signal: string) => void = () => undefined) {}

  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof M>(signal: K, handler: (payload: M[K]) => void): () => void {
    const list = this.handlers.get(signal) ?? [];
    list.push(handler as (payload: never) => void);
    this.handlers.set(signal, list);
    return () => {
      const at = list.indexOf(handler as (payload: never) => void);
      if (at >= 0) list.splice(at, 1);
    };
  }

  emit<K extends keyof M>(signal: K, payload: M[K]): void {
    for (const h of [...(this.handlers.get(signal) ?? [])]) {
      try {
        (h as (p: M[K]) => void)(payload);
      } catch (err) {
        this.onError(err, String(signal));
      }
    }
  }
}
