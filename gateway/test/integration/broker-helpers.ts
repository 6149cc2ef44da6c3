/** Shared helpers for the broker integration tests (real sockets on 127.0.0.1, ephemeral ports). */
import { execFile } from 'node:child_process';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { createLogger } from '../../src/lib/logger.js';
import type { DeviceRecord } from '../../src/storage/types.js';
import type { DeviceDirectory } from '../../src/broker/embedded-broker.js';
import { generateSecret, hashSecret } from '../../src/broker/secrets.js';

export const silentLogger = () => createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

export interface TestDevice {
  id: string;
  role: string;
  station?: string;
}

/** A DeviceDirectory over real scrypt hashes of freshly generated secrets. */
export async function makeDirectory(devices: TestDevice[]): Promise<{
  directory: DeviceDirectory & { rows: Map<string, DeviceRecord> };
  secrets: Record<string, string>;
}> {
  const rows = new Map<string, DeviceRecord>();
  const secrets: Record<string, string> = {};
  for (const d of devices) {
    const secret = generateSecret();
    secrets[d.id] = secret;
    rows.set(d.id, {
      deviceId: d.id,
      role: d.role,
      station: d.station ?? null,
      model: null,
      secretHash: await hashSecret(secret),
      createdAt: 0,
      rotatedAt: 0,
    });
  }
  return { directory: { rows, getDevice: (id) => rows.get(id) ?? null }, secrets };
}

export function client(url: string, opts: IClientOptions): Promise<MqttClient> {
  // allowRetries=false: a close before CONNACK rejects instead of hanging.
  return connectAsync(url, { reconnectPeriod: 0, connectTimeout: 20_000, protocolVersion: 4, ...opts }, false);
}

export interface ProcResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<ProcResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Polls until `check` is true; throws with `what` after `timeoutMs` (generous: shared CI box). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function collect(c: MqttClient): Array<{ topic: string; payload: string }> {
  const got: Array<{ topic: string; payload: string }> = [];
  c.on('message', (topic, payload) => got.push({ topic, payload: payload.toString() }));
  return got;
}
