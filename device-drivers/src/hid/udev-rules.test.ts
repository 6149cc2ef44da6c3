import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HID_DEVICE_DEFINITIONS } from './definitions.js';
import { hidUdevRules } from './udev-rules.js';

const shipped = resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/udev/70-packline-hid.rules');

describe('udev rules for HID devices (generated from the definitions)', () => {
  it('the shipped file is what the definitions generate (`packline device udev-rules > docs/udev/70-packline-hid.rules`)', () => {
    expect(readFileSync(shipped, 'utf8')).toBe(hidUdevRules());
  });

  it('gives every claimed vendor hidraw access and inhibits the input device of every keyboard-wedge vendor', () => {
    const rules = hidUdevRules();
    for (const d of HID_DEVICE_DEFINITIONS) {
      for (const m of d.match.filter((x) => x.vendorId !== undefined)) {
        const vid = m.vendorId!.toString(16).padStart(4, '0');
        expect(rules, d.id).toMatch(new RegExp(`SUBSYSTEM=="hidraw", ATTRS\\{idVendor\\}=="${vid}"`));
        if (d.class === 'keyboard-wedge-scanner')
          expect(rules, d.id).toMatch(new RegExp(`SUBSYSTEM=="input", KERNEL=="input\\[0-9\\]\\*", ATTRS\\{idVendor\\}=="${vid}", ATTR\\{inhibited\\}="1"`));
      }
    }
    // udev reads "#" as a comment only at the start of a line.
    for (const line of rules.split('\n')) if (!line.startsWith('#')) expect(line).not.toContain('#');
  });

  // udevadm parses rules the way udevd does; in a private mount namespace the test's rules
  // directory replaces /etc/udev/rules.d without touching the machine's.
  const why = (() => {
    if (spawnSync('udevadm', ['--version']).status !== 0) return 'udevadm missing (Debian package udev)';
    if (process.getuid?.() !== 0 || spawnSync('unshare', ['-m', 'true']).status !== 0) return 'needs root and unshare -m for a private /etc/udev/rules.d';
    return null;
  })();
  const parse = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'pkl-udev-'));
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      copyFileSync(shipped, join(dir, '70-packline-hid.rules'));
      return execFileSync('unshare', ['-m', 'sh', '-c', `mount --bind '${dir}' /etc/udev/rules.d && udevadm test --action=add /sys/class/net/lo 2>&1`], {
        encoding: 'utf8',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  it.skipIf(why !== null && process.env['CI'] !== 'true')(`udevadm accepts every line of the shipped file${why ? ` (skipped: ${why})` : ''}`, () => {
    if (why !== null) throw new Error(`CI must run this: ${why}`);
    const out = parse({ '99-broken.rules': 'SUBSYSTEM=="hidraw", GROUP="input"  # trailing comment\n' });
    expect(out).toContain('Reading rules file: /etc/udev/rules.d/70-packline-hid.rules');
    expect(out).toMatch(/99-broken\.rules:1 Invalid key\/value pair/); // the check can fail
    expect(out.split('\n').filter((l) => l.includes('70-packline-hid.rules:'))).toEqual([]);
  });
});
