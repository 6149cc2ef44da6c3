/**
 * Runs the device drivers the config asks for (`devices[].driver`) inside the gateway: a
 * serial or serial-over-TCP scale, a ZPL/TSPL network printer, an IPP printer, a serial or
 * input-device (evdev/hidraw) scanner, a DWS line. Each driver talks
 * to the broker like any device, as itself (username = device id), so the shipment core
 * cannot tell a driven scale from an MQTT-native one; a station is made of any scale protocol
 * and any printer type by configuration alone.
 *
 * Hosted devices get a fresh secret at every start, kept in memory only: nothing outside the
 * gateway needs it, and no plaintext is left on disk.
 */
import { DwsDriver, type DriverLogger } from '../../../device-drivers/src/conveyor/dws-driver.js';
import { dwsDefinition } from '../../../device-drivers/src/conveyor/definitions.js';
import { TcpServerTransport, tcpClientTransport } from '../../../device-drivers/src/conveyor/tcp-transport.js';
import { printerDefinition } from '../../../device-drivers/src/printer/definitions.js';
import { RawTcpPrinterDriver } from '../../../device-drivers/src/printer/raw-tcp-driver.js';
import { IppPrinterDriver } from '../../../device-drivers/src/printer/ipp/ipp-driver.js';
import { ScaleDriver } from '../../../device-drivers/src/scale/driver.js';
import type { ScanPostprocessOptions } from '../../../device-drivers/src/scanner/postprocess.js';
import { ScannerDriver } from '../../../device-drivers/src/scanner/scanner-driver.js';
import { FileTransport } from '../../../device-drivers/src/transports/file.js';
import { type HidBinding, NodeHidBinding } from '../../../device-drivers/src/hid/binding.js';
import { USAGE_PAGE } from '../../../device-drivers/src/hid/definitions.js';
import { HID_RECONNECT_BACKOFF, HidTransport } from '../../../device-drivers/src/hid/hid-transport.js';
import { parseHidIdentity } from '../../../device-drivers/src/hid/identity.js';
import { findScaleDefinition } from '../../../device-drivers/src/scale/index.js';
import { SerialTransport } from '../../../device-drivers/src/transports/serial.js';
import { TcpTransport } from '../../../device-drivers/src/transports/tcp.js';
import { PacklineError } from '../../../contracts/errors.js';
import { generateSecret, hashSecret } from '../broker/secrets.js';
import type { Config, DeviceConfig, DriverConfig } from '../config/schema.js';
import { type Component, stopAll } from '../lib/component.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../storage/types.js';

export interface DriverHostDeps {
  config: Readonly<Config>;
  store: Store;
  /** Where hosted drivers connect: the embedded broker's TCP listener or the external broker. */
  mqttUrl: string;
  logger: Logger;
  /** The HID stack (tests inject device-drivers' MockHidBinding); default node-hid. */
  hidBinding?: HidBinding;
}

function unknownDefinition(d: DeviceConfig, drv: Extract<DriverConfig, { definition: string }>): never {
  throw new PacklineError('PKL_CONFIG_INVALID', { reason: `device ${d.id}: no ${drv.kind} definition "${drv.definition}"` });
}

export class DriverHost implements Component {
  readonly name = 'drivers';
  private readonly running: Component[] = [];

  #hid: HidBinding | null = null;

  constructor(private readonly deps: DriverHostDeps) {}

  /** node-hid is loaded only when a HID link is configured. */
  private hid(): HidBinding {
    this.#hid ??= this.deps.hidBinding ?? new NodeHidBinding();
    return this.#hid;
  }

  /** Issues a fresh secret for a hosted device; only its hash is stored. */
  private async secretFor(deviceId: string): Promise<string> {
    const rec = this.deps.store.getDevice(deviceId);
    if (rec === null) throw new PacklineError('PKL_DEVICE_UNKNOWN', { deviceId });
    const secret = generateSecret();
    await this.deps.store.write([{ op: 'device.put', device: { ...rec, secretHash: await hashSecret(secret), rotatedAt: Date.now() } }]);
    return secret;
  }

  private async build(d: DeviceConfig, drv: DriverConfig): Promise<Component> {
    const { mqttUrl } = this.deps;
    const logger = this.deps.logger.child({ deviceId: d.id, driver: drv.kind });
    const secret = await this.secretFor(d.id);
    switch (drv.kind) {
      case 'scale': {
        const definition = findScaleDefinition(drv.definition) ?? unknownDefinition(d, drv);
        const link = drv.link;
        const line = definition.serial;
        if ((link.type === 'hid') !== (definition.transport === 'hid')) {
          throw new PacklineError('PKL_CONFIG_INVALID', {
            reason: `device ${d.id}: scale ${definition.id} is a ${definition.transport} device, link type ${link.type} cannot reach it`,
          });
        }
        let transport: () => SerialTransport | TcpTransport | HidTransport;
        if (link.type === 'serial') {
          transport = () => {
            if (line === undefined) throw new PacklineError('PKL_CONFIG_INVALID', { reason: `${drv.definition} has no serial line settings` });
            return new SerialTransport({ path: link.path, line });
          };
        } else if (link.type === 'tcp') {
          transport = () => new TcpTransport({ host: link.host, port: link.port });
        } else {
          const identity = parseHidIdentity(link.device);
          const binding = this.hid();
          transport = () => new HidTransport({ binding, identity, usagePage: USAGE_PAGE.scale });
        }
        return new ScaleDriver({
          definition,
          transport,
          ...(link.type === 'hid' ? { backoff: HID_RECONNECT_BACKOFF } : {}),
          mqtt: { url: mqttUrl, deviceId: d.id, secret },
          ...(drv.pollIntervalMs === undefined ? {} : { pollIntervalMs: drv.pollIntervalMs }),
          logger,
        });
      }
      case 'printer': {
        const definition = printerDefinition(drv.definition) ?? unknownDefinition(d, drv);
        return new RawTcpPrinterDriver({
          definition,
          host: drv.host,
          ...(drv.port === undefined ? {} : { port: drv.port }),
          mqtt: { url: mqttUrl, deviceId: d.id, secret },
          logger,
        });
      }
      case 'ipp-printer':
        return new IppPrinterDriver({ uri: drv.uri, mqtt: { url: mqttUrl, deviceId: d.id, secret }, logger });
      case 'scanner': {
        const link = drv.link;
        let transport: () => SerialTransport | FileTransport | HidTransport;
        if (link.type === 'serial') {
          transport = () => new SerialTransport({ path: link.path, line: { baudRate: drv.baudRate ?? 9600, dataBits: 8, parity: 'none', stopBits: 1 } });
        } else if (link.type === 'file') {
          // A hidraw node changes number on replug: HID devices are configured by identity.
          if (/^\/dev\/hidraw\d+$/.test(link.path)) parseHidIdentity(link.path);
          transport = () => new FileTransport({ path: link.path });
        } else {
          if (drv.wire !== 'hid-keyboard' && drv.wire !== 'hid-pos') {
            throw new PacklineError('PKL_CONFIG_INVALID', { reason: `device ${d.id}: a hid link carries wire hid-keyboard or hid-pos, not ${drv.wire}` });
          }
          const identity = parseHidIdentity(link.device);
          const binding = this.hid();
          // A composite scanner may expose a keyboard and a HID POS interface: take the one of this wire.
          const usagePage = drv.wire === 'hid-pos' ? USAGE_PAGE.barCodeScanner : USAGE_PAGE.genericDesktop;
          transport = () => new HidTransport({ binding, identity, usagePage });
        }
        const post: ScanPostprocessOptions = {
          ...(drv.prefix === undefined ? {} : { prefix: drv.prefix }),
          ...(drv.suffix === undefined ? {} : { suffix: drv.suffix }),
          ...(drv.duplicateWindowMs === undefined ? {} : { duplicateWindowMs: drv.duplicateWindowMs }),
        };
        return new ScannerDriver({
          deviceId: d.id,
          wire: drv.wire,
          transport,
          mqtt: { url: mqttUrl, deviceId: d.id, secret },
          ...(drv.layout === undefined ? {} : { layout: drv.layout }),
          ...(drv.terminator === undefined ? {} : { terminator: drv.terminator }),
          ...(link.type === 'hid' ? { backoff: HID_RECONNECT_BACKOFF } : {}),
          postprocess: post,
          logger,
        });
      }
      case 'dws': {
        const definition = dwsDefinition(drv.definition);
        const link = drv.link;
        const transport =
          link.type === 'tcp' ? tcpClientTransport({ host: link.host, port: link.port }) : new TcpServerTransport({ host: link.host, port: link.port });
        return new DwsDriver({
          deviceId: d.id,
          definition,
          transport,
          mqtt: { url: mqttUrl, password: secret },
          ...(drv.replyTimeoutMs === undefined ? {} : { replyTimeoutMs: drv.replyTimeoutMs }),
          ...(drv.defaultChute === undefined ? {} : { defaultChute: drv.defaultChute }),
          logger: logger as DriverLogger,
        });
      }
    }
  }

  async start(): Promise<void> {
    for (const d of this.deps.config.devices) {
      if (d.driver === undefined) continue;
      const driver = await this.build(d, d.driver);
      await driver.start();
      this.running.push(driver);
      this.deps.logger.info({ deviceId: d.id, driver: d.driver }, 'device driver started');
    }
  }

  async stop(): Promise<void> {
    const failures = await stopAll(this.running.splice(0));
    for (const err of failures) this.deps.logger.error({ err }, 'device driver failed to stop');
  }
}
