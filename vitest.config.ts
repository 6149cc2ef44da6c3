import { defineConfig } from 'vitest/config';

// Two projects: `unit` holds the pure, in-process tests that sit next to the code
// (protocols, contracts, config, the shipment state machine); `integration` boots real
// processes and real transports (MQTT over TCP/WebSocket, mosquitto, SQLite on disk,
// SIGKILL) and therefore runs files one at a time so they do not fight over the 2 cores.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{contracts,gateway,cloud-sync,device-drivers,simulators}/**/*.test.ts'],
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
