/**
 * The chaos rig: one gateway data directory that lives across many gateway processes (as on
 * a real box), the real `packline start` in a child process (so it can be SIGKILLed), and a
 * reference cloud order system (simulators/src/cloud/reference) with its fault modes, which
 * the gateway's cloud sync drains to. The cloud runs in the harness process, so the gateway
 * child's memory and the cloud's are measured apart.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSync } from '../../../simulators/src/cloud/reference/checker.js';
import { ReferenceCloud } from '../../../simulators/src/cloud/reference/reference-cloud.js';
import type { FaultPatch } from '../../../simulators/src/cloud/reference/fault-modes.js';
import { DeviceProvisioner } from '../../src/broker/provisioning.js';
import { openAdminDb } from '../../src/storage/admin-db.js';
import { DB_FILE } from '../../src/storage/sqlite-store.js';
import { type ChildGateway, startChildGateway } from '../support/child-gateway.js';
import { floorConfig } from '../support/floor.js';
import { fastSync, GATEWAY_ID, SYNC_KEY } from '../support/sync-rig.js';

export interface ChaosRigOptions {
  stations: number;
  lines: number;
  /** Where the gateway's data directory goes (e.g. a small tmpfs for disk full); default a temp dir. */
  dataDir?: string;
  /** Merged over the sync settings (fastSync). */
  sync?: Record<string, unknown>;
  /** Merged over the raw config (e.g. `storage`). */
  extra?: Record<string, unknown>;
  /** Keep the temporary directory at close (for a post-mortem). */
  keep?: boolean;
}

export interface StartedGateway {
  g: ChildGateway;
  /** Spawn → banner printed and `/readyz` answering 200, ms. */
  readyMs: number;
}

export class ChaosRig {
  readonly dir: string;
  readonly dataDir: string;
  readonly configFile: string;
  readonly keyFile: string;
  readonly cloud: ReferenceCloud;

  private constructor(private readonly opts: ChaosRigOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'pkl-chaos-'));
    this.dataDir = opts.dataDir ?? join(this.dir, 'gw');
    mkdirSync(this.dataDir, { recursive: true });
    this.configFile = join(this.dir, 'packline.json');
    this.keyFile = join(this.dir, 'sync.key');
    writeFileSync(this.keyFile, `${SYNC_KEY}\n`, { mode: 0o600 });
    this.cloud = new ReferenceCloud({ dbPath: join(this.dir, 'cloud.db'), gateways: { [GATEWAY_ID]: SYNC_KEY }, seed: 7 });
  }

  static async create(opts: ChaosRigOptions): Promise<ChaosRig> {
    const rig = new ChaosRig(opts);
    await rig.cloud.start();
    rig.writeConfig();
    return rig;
  }

  get dbPath(): string {
    return join(this.dataDir, DB_FILE);
  }

  /** (Re)writes the gateway's config; `extra` is merged over the rig's own extra settings. */
  writeConfig(extra: Record<string, unknown> = {}): void {
    const sync = fastSync(this.cloud.url, this.keyFile, { inbound: { pollMs: 150, pageSize: 1000 }, ...this.opts.sync });
    const raw = floorConfig(
      this.dataDir,
      { stations: this.opts.stations, lines: this.opts.lines, verifyItems: 'never' },
      { sync, ...this.opts.extra, ...extra },
    );
    writeFileSync(this.configFile, JSON.stringify(raw));
  }

  /** Starts `packline start` on the rig's data directory and waits until it is ready. */
  async startGateway(env: NodeJS.ProcessEnv = {}): Promise<StartedGateway> {
    const t0 = performance.now();
    const g = await startChildGateway(this.configFile, this.dataDir, env);
    await waitReady(g);
    return { g, readyMs: performance.now() - t0 };
  }

  /**
   * Issues every configured device its secret before the first start (as bench core does for
   * Mosquitto): hashing ~500 secrets (scrypt) takes longer than a start is allowed to.
   */
  async preProvision(): Promise<void> {
    const raw = JSON.parse(readFileSync(this.configFile, 'utf8')) as { devices: Array<{ id: string; role: 'scanner'; station?: string }> };
    const db = openAdminDb(this.dataDir);
    try {
      const registry = {
        getDevice: (id: string) => db.getDevice(id),
        listDevices: () => db.listDevices(),
        putDevice: async (rec: Parameters<typeof db.putDevice>[0]) => void db.putDevice(rec),
        deleteDevice: async (id: string) => void db.removeDevice(id),
      };
      await new DeviceProvisioner(registry, { dataDir: this.dataDir }).provisionConfigured(raw.devices);
    } finally {
      db.close();
    }
  }

  /** Cloud admin API (unsigned, for tests). */
  async admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.cloud.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text.length > 0 ? (JSON.parse(text) as unknown) : null };
  }

  /** Creates orders in the cloud; they reach the gateway through the change feed. */
  async addOrders(orders: Array<Record<string, unknown>>): Promise<void> {
    for (let i = 0; i < orders.length; i += 1000) {
      const r = await this.admin('POST', '/admin/orders', orders.slice(i, i + 1000));
      if (r.status !== 200) throw new Error(`cloud refused orders: ${JSON.stringify(r.body)}`);
    }
  }

  /** A status change in the cloud (refunded, cancelled, …): the gateway must intercept the order. */
  async setStatus(orderId: string, status: string): Promise<void> {
    const r = await this.admin('POST', `/admin/orders/${encodeURIComponent(orderId)}/status`, { status });
    if (r.status !== 200) throw new Error(`cloud refused status ${status} for ${orderId}: ${JSON.stringify(r.body)}`);
  }

  async setFaults(f: FaultPatch): Promise<void> {
    await this.cloud.setFaults(f);
  }

  check(): ReturnType<typeof checkSync> {
    return checkSync({ gatewayDbPath: this.dbPath, cloud: this.cloud.db, gatewayId: GATEWAY_ID });
  }

  async close(): Promise<void> {
    await this.cloud.stop();
    if (this.opts.keep !== true) rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function api<T = any>(g: ChildGateway, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${g.httpUrl}${path}`, { ...init, headers: { authorization: `Bearer ${g.tokens.admin}`, ...(init.headers ?? {}) } });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text.length > 0 ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body: body as T };
}

/** Polls `/readyz` until 200 (a safety net of 60 s, not a speed assertion). */
export async function waitReady(g: ChildGateway, timeoutMs = 60_000): Promise<void> {
  await until('the gateway to be ready', async () => (await fetch(`${g.httpUrl}/readyz`).catch(() => null))?.status === 200, timeoutMs, 20);
}

export async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until the gateway process has exited (after a kill). */
export async function killHard(g: ChildGateway): Promise<void> {
  g.proc.kill('SIGKILL');
  await g.exited;
}

/** Stops a gateway gracefully; returns its exit code. */
export async function stopGateway(g: ChildGateway): Promise<number | null> {
  g.proc.kill('SIGTERM');
  return (await g.exited).code;
}

/** Resident set size of a process, MB (proc(5) VmRSS). */
export async function rssMb(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024;
}
