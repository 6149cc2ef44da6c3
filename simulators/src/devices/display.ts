/**
 * A station screen: subscribes to the retained `station/{id}/view` snapshot and keeps the
 * latest one (a real screen would draw it).
 */
import type { StationView } from '../../../contracts/payloads.js';
import { topics } from '../../../contracts/topics.js';
import type { SimLogger } from '../lib/logger.js';
import { DeviceClient } from './device-client.js';

export interface DisplayOptions {
  mqttUrl: string;
  deviceId: string;
  secret: string;
  stationId: string;
  connectRetryMs?: number;
  logger?: SimLogger;
}

export class DisplaySim {
  readonly client: DeviceClient;
  view: StationView | null = null;
  updates = 0;

  constructor(opts: DisplayOptions) {
    this.client = new DeviceClient({
      mqttUrl: opts.mqttUrl,
      deviceId: opts.deviceId,
      secret: opts.secret,
      ...(opts.connectRetryMs !== undefined ? { connectRetryMs: opts.connectRetryMs } : {}),
      commands: ['display'],
      extraTopics: [topics.stationView(opts.stationId)],
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    this.client.on('message', (topic, payload) => {
      if (topic === topics.stationView(opts.stationId) && payload && typeof payload === 'object') {
        this.view = payload as StationView;
        this.updates++;
      }
    });
  }

  get deviceId(): string {
    return this.client.deviceId;
  }

  start(): Promise<void> {
    return this.client.start();
  }

  stop(): Promise<void> {
    return this.client.stop();
  }
}
