/**
 * A raw MQTT client for conformance tests: packets built and parsed with mqtt-packet and sent
 * over a plain TCP socket, so a test can send exactly the bytes a normative statement is about
 * (an empty client id, keep-alive 0, protocol level 5, an oversized packet) and see exactly
 * what the broker answers, including a close without any answer.
 */
import { connect, type Socket } from 'node:net';
import { generate, parser as packetParser, type Packet } from 'mqtt-packet';

export class RawClient {
  readonly packets: Packet[] = [];
  closed = false;
  private readonly waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    // The embedded broker answers in MQTT 3.1.1 framing, also to a level-5 CONNECT (CONNACK 1).
    const parser = packetParser({ protocolVersion: 4 });
    parser.on('packet', (p: Packet) => {
      this.packets.push(p);
      this.wake();
    });
    socket.on('data', (b) => parser.parse(b));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  send(packet: Packet, protocolVersion = 4): void {
    this.socket.write(connectBytes(packet, protocolVersion));
  }

  /** Writes bytes as they are (e.g. only a fixed header announcing a huge packet). */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next packet with this `cmd`, or null when the connection closes first. */
  async next<C extends Packet['cmd']>(cmd: C, timeoutMs = 20_000): Promise<Extract<Packet, { cmd: C }> | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.packets.findIndex((p) => p.cmd === cmd);
      if (i >= 0) return this.packets.splice(i, 1)[0] as Extract<Packet, { cmd: C }>;
      if (this.closed) return null;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${cmd}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the broker to close the connection');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  end(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/**
 * mqtt-packet refuses to generate what a conformance test must send, an empty client id with
 * CleanSession=0: such a CONNECT is generated with CleanSession=1 and the flag cleared in the
 * Connect Flags byte (§3.1.2.3; bit 1 is Clean Session, §3.1.2.4).
 */
function connectBytes(packet: Packet, protocolVersion: number): Buffer {
  if (packet.cmd === 'connect' && packet.clientId === '' && packet.clean === false) {
    const bytes = generate({ ...packet, clean: true }, { protocolVersion });
    // Fixed header (1 + 1 length byte for a small CONNECT), "MQTT" (2 + 4), level (1), flags.
    const flags = 2 + 6 + 1;
    bytes[flags] = (bytes[flags] as number) & ~0x02;
    return bytes;
  }
  return generate(packet, { protocolVersion });
}

/** The CONNACK's return code (3.1.1 framing) or reason code (MQTT 5 framing). */
export function returnCodeOf(ack: Packet | null): number | null {
  if (ack === null) return null;
  const a = ack as { returnCode?: number; reasonCode?: number };
  return a.returnCode ?? a.reasonCode ?? null;
}

export interface ConnectFields {
  clientId: string;
  clean?: boolean;
  keepalive?: number;
  username?: string;
  password?: string;
  protocolVersion?: 4 | 5;
}

export function connectPacket(f: ConnectFields): Packet {
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: f.protocolVersion ?? 4,
    clean: f.clean ?? true,
    clientId: f.clientId,
    keepalive: f.keepalive ?? 60,
    ...(f.username === undefined ? {} : { username: f.username }),
    ...(f.password === undefined ? {} : { password: Buffer.from(f.password) }),
  } as Packet;
}

/** Opens a connection, sends CONNECT and returns the CONNACK's return code (null: closed without one). */
export async function connectRaw(port: number, f: ConnectFields): Promise<{ client: RawClient; returnCode: number | null }> {
  const client = await RawClient.open(port);
  client.send(connectPacket(f), f.protocolVersion ?? 4);
  return { client, returnCode: returnCodeOf(await client.next('connack')) };
}
