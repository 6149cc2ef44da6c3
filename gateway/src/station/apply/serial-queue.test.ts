import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.js';

describe('SerialQueue', () => {
  it('runs tasks one at a time in order, even when earlier ones are slower', async () => {
    const q = new SerialQueue(10);
    const log: string[] = [];
    let running = 0;
    const task = (name: string, ticks: number) => async () => {
      running++;
      expect(running).toBe(1);
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      log.push(name);
      running--;
    };
    q.push(task('a', 20));
    q.push(task('b', 1));
    q.push(task('c', 5));
    await q.idle();
    expect(log).toEqual(['a', 'b', 'c']);
    expect(q.size).toBe(0);
  });

  it('refuses beyond its limit and keeps going after a failing task', async () => {
    const errors: unknown[] = [];
    const q = new SerialQueue(2, (e) => errors.push(e));
    const ran: number[] = [];
    expect(
      q.push(async () => {
        throw new Error('boom');
      }),
    ).toBe(true);
    expect(
      q.push(async () => {
        ran.push(2);
      }),
    ).toBe(true);
    expect(
      q.push(async () => {
        ran.push(3);
      }),
    ).toBe(false);
    await q.idle();
    expect(ran).toEqual([2]);
    expect(errors).toHaveLength(1);
    expect(
      q.push(async () => {
        ran.push(4);
      }),
    ).toBe(true);
    await q.idle();
    expect(ran).toEqual([2, 4]);
  });
});
