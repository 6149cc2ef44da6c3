import { setTimeout as delay } from 'node:timers/promises';

/** Monotonic milliseconds (not wall clock), for latency measurement. */
export function nowMs(): number {
  return performance.now();
}

/** Sleeps `ms`, resolving early (without throwing) when `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return;
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (err) {
    if ((err as { name?: string }).name !== 'AbortError') throw err;
  }
}
