/**
 * The sync conformance kit (`packline sync conformance`) against real clouds over HTTP on
 * 127.0.0.1: the reference cloud passes every check; the reference cloud with one deliberate
 * protocol defect at a time fails with the finding that names that defect. The last case runs
 * the real command line, as a merchant's cloud team would.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_CHECKS, type Finding, runConformance } from '../../../cloud-sync/src/conformance/conformance.js';
import { HttpSyncTransport } from '../../../cloud-sync/src/transports/http-transport.js';
import { type CloudDefect, CLOUD_DEFECTS } from '../../../simulators/src/cloud/reference/fault-modes.js';
import { ReferenceCloud } from '../../../simulators/src/cloud/reference/reference-cloud.js';
import { runCli } from '../support/cli.js';
import { wireOrder } from '../support/floor.js';

const KEY = 'conformance-key-0123456789abcdef';
let dir: string;
let cloud: ReferenceCloud;
const gateways = ['conf-ok', 'conf-cli', 'conf-extra', ...CLOUD_DEFECTS.map((d) => `conf-${d}`)];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pkl-conformance-'));
  cloud = new ReferenceCloud({ dbPath: join(dir, 'cloud.db'), gateways: Object.fromEntries(gateways.map((g) => [g, KEY])) });
  await cloud.start();
  // A change feed of a few pages (limit 2), with a status change and a cancel request.
  const r = await fetch(`${cloud.url}/admin/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(['C-1', 'C-2', 'C-3', 'C-4', 'C-5'].map((id) => wireOrder(id))),
  });
  expect(r.status).toBe(200);
  await fetch(`${cloud.url}/admin/orders/C-1/status`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status: 'refund_requested' }),
  });
  await fetch(`${cloud.url}/admin/orders/C-2/cancel-request`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ request_id: 'CR-C2' }),
  });
});

afterAll(async () => {
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function conformance(gatewayId: string): Promise<Finding[]> {
  const transport = new HttpSyncTransport({ baseUrl: cloud.url });
  await transport.start();
  try {
    return await runConformance({ transport, gatewayId, key: KEY });
  } finally {
    await transport.stop();
  }
}

const failed = (f: Finding[]) => [...new Set(f.filter((x) => !x.ok).map((x) => x.check))].sort();

describe('sync conformance kit', () => {
  it('passes the reference cloud on every check, and again on a second run', async () => {
    const f = await conformance('conf-ok');
    expect(failed(f)).toEqual([]);
    // Every check ran.
    expect([...new Set(f.map((x) => x.check))].sort()).toEqual([...CONFORMANCE_CHECKS].sort());
    expect(failed(await conformance('conf-ok'))).toEqual([]);
  });

  it('passes a cloud that adds fields the contract does not name (the compatibility rule)', async () => {
    await cloud.setFaults({ extraAnswerFields: true });
    try {
      expect(failed(await conformance('conf-extra'))).toEqual([]);
    } finally {
      await cloud.clearFaults();
    }
  });

  const expected: Record<CloudDefect, string> = {
    accepts_bad_signature: 'auth.bad_signature',
    acks_across_gaps: 'batch.gap',
    accepts_non_contiguous: 'batch.non_contiguous',
    forgets_rejections: 'rejection.repeated_on_redelivery',
    unflagged_duplicates: 'batch.duplicate',
    empty_page_loses_cursor: 'changes.empty_page_cursor',
    ignores_change_limit: 'changes.limit',
    retry_without_accepted: 'retry.answer',
  };
  for (const defect of CLOUD_DEFECTS) {
    it(`finds a cloud that ${defect.replaceAll('_', ' ')} (${expected[defect]})`, async () => {
      await cloud.setFaults({ defects: [defect] });
      try {
        const f = await conformance(`conf-${defect}`);
        expect(failed(f)).toContain(expected[defect]);
        const finding = f.find((x) => !x.ok && x.check === expected[defect])!;
        expect(finding.detail).toMatch(/expected/);
      } finally {
        await cloud.clearFaults();
      }
    });
  }

  it('runs from the command line: findings printed, exit code 0 for a conformant cloud and 1 for a broken one', async () => {
    const keyFile = join(dir, 'conf.key');
    writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
    const ok = await runCli(join(dir, 'cli-data'), ['sync', 'conformance', '--url', cloud.url, '--key-file', keyFile, '--gateway', 'conf-cli']);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/conformant: \d+ checks passed/);
    expect(ok.code).toBe(0);
    await cloud.setFaults({ defects: ['forgets_rejections'] });
    try {
      const bad = await runCli(join(dir, 'cli-data'), ['sync', 'conformance', '--url', cloud.url, '--key-file', keyFile, '--gateway', 'conf-cli']);
      expect(bad.stdout).toMatch(/^FAIL {2}rejection\.repeated_on_redelivery: /m);
      expect(bad.code).toBe(1);
    } finally {
      await cloud.clearFaults();
    }
  });
});
