/**
 * Takes the cloud's HTTP listener down and brings it back on the same port, for the `down`
 * fault mode: down means a connecting client gets ECONNREFUSED and a kept-alive connection
 * is gone, exactly what a gateway sees when the cloud or the WAN is out.
 *
 * A socket carrying an admin request (the `PUT /admin/faults` that asked for the outage) is
 * spared until its answer is written, so the caller learns that its request was applied.
 */
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export class ListenerControl {
  private readonly sockets = new Set<Socket>();
  private readonly spared = new Set<Socket>();
  private isDown = false;
  private port = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly server: Server,
    private readonly host: string,
  ) {
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => {
        this.sockets.delete(s);
        this.spared.delete(s);
      });
    });
  }

  get down(): boolean {
    return this.isDown;
  }

  /** Records the port the first listen got (port 0 is resolved once, then kept). */
  listened(): void {
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Keeps `s` open until {@link release} while the listener goes down. */
  spare(s: Socket): void {
    this.spared.add(s);
  }

  /** The spared request was answered: if the cloud is down, this socket goes too. */
  release(s: Socket): void {
    this.spared.delete(s);
    if (this.isDown) s.destroy();
  }

  /** Closes the listener and destroys every open socket; resolves once the server has closed. */
  setDown(down: boolean): Promise<void> {
    const op = this.chain.then(() => (down ? this.close() : this.open()));
    this.chain = op.catch(() => undefined);
    return op;
  }

  /** Destroys every socket (stop(): hung requests would otherwise keep the process alive). */
  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  private close(): Promise<void> {
    if (this.isDown) return Promise.resolve();
    this.isDown = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) if (!this.spared.has(s)) s.destroy();
    return closed;
  }

  private open(): Promise<void> {
    if (!this.isDown) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', onError);
        this.isDown = false;
        resolve();
      });
    });
  }
}
