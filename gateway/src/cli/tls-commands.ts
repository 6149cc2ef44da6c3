/**
 * `packline tls init`: a local CA and a server certificate for the gateway's names and
 * addresses, and client certificates for mutual TLS (tls/local-ca.ts, docs/mqtt.md §1 TLS).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { configFromOptions, type GlobalOptions } from './options.js';
import { initLocalCa } from '../tls/local-ca.js';

export function registerTlsCommands(program: Command): void {
  const tls = program.command('tls').description('TLS certificates for MQTT (8883) and the HTTP API');
  tls
    .command('init')
    .description('create a local CA (kept if it exists) and a server certificate for this gateway; optionally client certificates per device')
    .option('-o, --out <dir>', 'where to write the files (default <dataDir>/tls)')
    .option('--name <dns...>', 'DNS names of the gateway (default: host name, <host>.local, localhost)')
    .option('--ip <address...>', 'IP addresses of the gateway (default: every address of this host)')
    .option('--days <n>', 'validity of the server and client certificates (default 825)')
    .option('--client <deviceId...>', 'issue a client certificate (CN = device id) for mutual TLS')
    .option('--no-server', 'only issue client certificates with the existing CA')
    .action(async (opts: { out?: string; name?: string[]; ip?: string[]; days?: string; client?: string[]; server: boolean }) => {
      const config = configFromOptions(program.opts<GlobalOptions>());
      const outDir = resolve(opts.out ?? resolve(config.dataDir, 'tls'));
      const files = await initLocalCa({
        outDir,
        ...(opts.name ? { names: opts.name } : {}),
        ...(opts.ip ? { ips: opts.ip } : {}),
        ...(opts.days ? { days: Number(opts.days) } : {}),
        ...(opts.client ? { clients: opts.client } : {}),
        noServer: !opts.server,
        gatewayId: config.gatewayId,
      });
      const out = process.stdout;
      out.write(`CA certificate  ${files.caCert}  (give this to devices; pin SHA-256 ${files.caFingerprint256})\n`);
      if (files.serverCert) out.write(`server          ${files.serverCert}  for ${[...files.names, ...files.ips].join(', ')}\n`);
      for (const c of files.clients) out.write(`client          ${c.cert}  ${c.key}  (device ${c.deviceId})\n`);
      if (outDir === resolve(config.dataDir, 'tls') && config.tls.mode === 'auto') {
        // The gateway's own folder (tls/auto-tls.ts): used as they are, no config needed.
        out.write('\nThe gateway uses these at its next start (tls.mode auto): no config needed. For files kept elsewhere:\n');
      }
      out.write('\nConfig (JSON):\n');
      const mqttTls: Record<string, string> = {};
      if (files.serverCert && files.serverKey) Object.assign(mqttTls, { certFile: files.serverCert, keyFile: files.serverKey });
      if (files.clients.length > 0) mqttTls.caFile = files.caCert;
      out.write(`  "mqtt": { "tls": ${JSON.stringify(mqttTls)} }\n`);
      if (files.serverCert && files.serverKey) out.write(`  "http": { "tls": ${JSON.stringify({ certFile: files.serverCert, keyFile: files.serverKey })} }\n`);
      if (files.clients.length > 0)
        out.write('  mqtt.tls.caFile set = every TLS client must present a certificate signed by this CA, with CN = its username.\n');
    });
}
