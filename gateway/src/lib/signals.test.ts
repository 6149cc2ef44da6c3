import { describe, expect, it } from 'vitest';
import { Signals } from './signals.js';

describe('signals', () => {
  it('delivers to every subscriber in order, survives a throwing one, and unsubscribes', () => {
    const errors: string[] = [];
    const bus = new Signals((_err, signal) => errors.push(signal));
    const seen: string[] = [];
    const off = bus.on('ordersChanged', (ids) => seen.push(`a:${ids.join(',')}`));
    bus.on('ordersChanged', () => {
      throw new Error('boom');
    });
    bus.on('ordersChanged', (ids) => seen.push(`c:${ids.join(',')}`));
    bus.emit('ordersChanged', ['O-1', 'O-2']);
    expect(seen).toEqual(['a:O-1,O-2', 'c:O-1,O-2']);
    expect(errors).toEqual(['ordersChanged']);
    off();
    bus.emit('ordersChanged', ['O-3']);
    expect(seen).toEqual(['a:O-1,O-2', 'c:O-1,O-2', 'c:O-3']);
  });
});
