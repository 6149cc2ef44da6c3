/**
 * One lifecycle everywhere. Constructors only assign; `start()` acquires (ports, files,
 * timers, workers) and `stop()` releases everything `start()` acquired. Both are
 * idempotent. The composition root starts components in order and stops them in reverse.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts components in order; on failure stops the ones already started, in reverse. */
export async function startAll(components: readonly Component[]): Promise<void> {
  const started: Component[] = [];
  try {
    for (const c of components) {
      await c.start();
      started.push(c);
    }
  } catch (err) {
    await stopAll(started);
    throw err;
  }
}

/** Stops components in reverse order; a failing stop does not keep the others running. */
export async function stopAll(components: readonly Component[], onStopping?: (name: string) => void): Promise<Error[]> {
  const failures: Error[] = [];
  for (const c of [...components].reverse()) {
    onStopping?.(c.name);
    try {
      await c.stop();
    } catch (err) {
      failures.push(err instanceof Error ? err : new Error(String(err)));
    }
  }
  return failures;
}
