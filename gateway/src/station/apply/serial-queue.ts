/**
 * Runs tasks one at a time, in arrival order. Each station (and each line) owns one, so a
 * station's inputs are applied strictly in the order they arrived and each step sees the
 * committed result of the one before; different stations run concurrently and their writes
 * meet in the store's group commit.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private length = 0;

  /**
   * @param limit tasks waiting at most; beyond it `push` refuses (back-pressure, not a drop)
   * @param onError receives a task's failure; the queue itself always carries on
   */
  constructor(
    private readonly limit: number,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  get size(): number {
    return this.length;
  }

  /** Enqueues a task; false (and nothing queued) when the queue is full. */
  push(task: () => Promise<void>): boolean {
    if (this.length >= this.limit) return false;
    this.length++;
    this.tail = this.tail.then(async () => {
      try {
        await task();
      } catch (err) {
        this.onError(err);
      } finally {
        this.length--;
      }
    });
    return true;
  }

  /** Resolves once everything queued so far has run. */
  idle(): Promise<void> {
    return this.tail;
  }
}
