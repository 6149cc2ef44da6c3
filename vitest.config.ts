import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { SKIP_RECORD_ENV } from './test-peers/peers.js';

// Tests skipped for a missing test peer (test-peers/peers.ts) are recorded here, one file per
// run, and named in one line at the end (test-peers/skip-summary-reporter.ts).
process.env[SKIP_RECORD_ENV] ??= join(tmpdir(), `packline-skipped-peers-${process.pid}.jsonl`);

// Two projects: `unit` holds the pure, in-process tests that sit next to the code
// (protocols, contracts, config, the shipment state machine); `integration` boots real
// processes and real transports (MQTT over TCP/WebSocket, mosquitto, SQLite on disk,
// SIGKILL) and therefore runs files one at a time so they do not fight over the 2 cores.
export default defineConfig({
  test: {
    reporters: ['default', './test-peers/skip-summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{contracts,gateway,cloud-sync,device-drivers,simulators,test-peers}/**/*.test.ts'],
          exclude: ['**/test/integration/**', 'node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/test/integration/**/*.test.ts'],
          exclude: ['node_modules/**'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
