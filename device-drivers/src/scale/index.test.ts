/** Declarative invariants of the scale catalogue. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCALE_DEFINITIONS, SCALE_PROTOCOLS, matchScaleDefinitionsByUsb } from './index.js';

const here = new URL('.', import.meta.url).pathname;
const dirs = (p: string) => readdirSync(p).filter((n) => statSync(join(p, n)).isDirectory());

describe('scale catalogue', () => {
  it('lists every models/<id>/definition.ts folder, under its folder name, exactly once', () => {
    const folders = dirs(join(here, 'models')).sort();
    expect(folders.length).toBeGreaterThan(0);
    for (const f of folders) expect(existsSync(join(here, 'models', f, 'definition.ts'))).toBe(true);
    expect(SCALE_DEFINITIONS.map((d) => d.id).sort()).toEqual(folders);
  });

  it('registers every <protocol>/protocol.ts folder under its folder name', () => {
    const folders = dirs(join(here, '.'))
      .filter((f) => existsSync(join(here, f, 'protocol.ts')))
      .sort();
    expect(Object.keys(SCALE_PROTOCOLS).sort()).toEqual(folders);
    for (const [id, p] of Object.entries(SCALE_PROTOCOLS)) expect(p.id).toBe(id);
  });

  for (const d of SCALE_DEFINITIONS) {
    it(`${d.id}: protocol exists, options are accepted, capabilities match the protocol's commands`, () => {
      const protocol = SCALE_PROTOCOLS[d.protocol];
      expect(protocol, `protocol ${d.protocol}`).toBeDefined();
      if (protocol === undefined) return;
      expect(() => protocol.createDecoder(d.options)).not.toThrow();
      expect(d.capabilities).toContain('weight');
      const needs = { zero: 'zero', tare: 'tare', poll: 'weigh' } as const;
      for (const [cap, command] of Object.entries(needs)) {
        if (d.capabilities.includes(cap as keyof typeof needs)) {
          expect(() => protocol.encode(command, d.options), `${d.id} ${cap}`).not.toThrow();
        }
      }
      if (d.transport !== 'hid') expect(d.serial).toBeDefined();
    });
  }

  it('matches USB HID scales by VID:PID', () => {
    expect(matchScaleDefinitionsByUsb(0x0922, 0x8003).map((d) => d.id)).toEqual(['hid-pos-scale']);
    expect(matchScaleDefinitionsByUsb(0x1234, 0x5678)).toEqual([]);
  });
});
