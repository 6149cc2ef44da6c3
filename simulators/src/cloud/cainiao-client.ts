/**
 * An ERP web page's side of the Cainiao print-component protocol (菜鸟打印组件), for tests and
 * demos: what a page does over `ws://localhost:13528` — getPrinters, print a task, wait for
 * notifyPrintResult, ask getTaskStatus. Requests carry `{cmd, requestID, version:"1.0"}` and the
 * answer is matched by requestID, as the official document describes (open.alitrip.com
 * docs/doc.htm?articleId=107014; github.com/gavin-hao/ec-print src/printProvider.ts does the same).
 *
 * Also builds documents in the two forms pages send: plain standard-waybill data (the Cainiao
 * standard template's data: waybillCode, recipient, sender, routingInfo; e.g.
 * github.com/garrettzxd/print-demo src/common/printData.js) and platform-encrypted contents
 * (`encryptedData: "AES:…"` + `signature`).
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export type CainiaoFrame = Record<string, unknown> & { cmd?: string; requestID?: string | number };

export interface CainiaoContent {
  data?: Record<string, unknown>;
  templateURL?: string;
  encryptedData?: string;
  signature?: string;
  [key: string]: unknown;
}

export interface CainiaoDocument {
  documentID: string;
  contents: CainiaoContent[];
}

export interface CainiaoTask {
  taskID: string;
  preview?: boolean;
  printer?: string;
  notifyType?: Array<'render' | 'print'>;
  documents: CainiaoDocument[];
  [key: string]: unknown;
}

type Waiter = { pred: (f: CainiaoFrame) => boolean; resolve: (f: CainiaoFrame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class CainiaoClient {
  /** Every frame received, in order. */
  readonly frames: CainiaoFrame[] = [];
  private waiters: Waiter[] = [];
  private closed = false;
  /** Resolves with the close code and reason when the connection closes (either side). */
  readonly whenClosed: Promise<{ code: number; reason: string }>;

  private constructor(private readonly ws: WebSocket) {
    this.whenClosed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      let frame: CainiaoFrame;
      try {
        frame = JSON.parse(data.toString()) as CainiaoFrame;
      } catch {
        frame = { cmd: '(not json)', raw: data.toString() };
      }
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(frame)) return true;
        clearTimeout(w.timer);
        w.resolve(frame);
        return false;
      });
    });
    ws.on('close', () => {
      this.closed = true;
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.reject(new Error('print-component connection closed'));
      }
      this.waiters = [];
    });
  }

  static connect(url: string, timeoutMs = 5000): Promise<CainiaoClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
      ws.once('open', () => resolve(new CainiaoClient(ws)));
      ws.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  /** Resolves with the first frame (already received or arriving) that matches. */
  next(pred: (f: CainiaoFrame) => boolean, timeoutMs = 10_000): Promise<CainiaoFrame> {
    const found = this.frames.find(pred);
    if (found) return Promise.resolve(found);
    if (this.closed) return Promise.reject(new Error('print-component connection closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`no matching print-component frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({ pred, resolve, reject, timer });
    });
  }

  /** Sends a frame as is (tests send garbage through here). */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Sends `{cmd, requestID, version:"1.0", ...body}` and resolves with the answer to that requestID. */
  request(cmd: string, body: Record<string, unknown> = {}, requestID: string | number = randomUUID()): Promise<CainiaoFrame> {
    const answer = this.next((f) => f.requestID === requestID && f.cmd === cmd);
    this.ws.send(JSON.stringify({ cmd, requestID, version: '1.0', ...body }));
    return answer;
  }

  getPrinters(): Promise<CainiaoFrame> {
    return this.request('getPrinters');
  }

  getPrinterConfig(printer: string): Promise<CainiaoFrame> {
    return this.request('getPrinterConfig', { printer });
  }

  /** Sends a task; resolves with the immediate `print` answer (notifications come later, see {@link notification}). */
  print(task: CainiaoTask, requestID?: string): Promise<CainiaoFrame> {
    return this.request('print', { task }, requestID);
  }

  getTaskStatus(taskIDs: string[]): Promise<CainiaoFrame> {
    return this.request('getTaskStatus', { taskID: taskIDs });
  }

  /** The `nth` (1-based) notifyPrintResult for `taskID` with one of the given task statuses. */
  notification(taskID: string, statuses: readonly string[] = ['printed', 'failed'], nth = 1, timeoutMs = 10_000): Promise<CainiaoFrame> {
    let seen = 0;
    const matches = (f: CainiaoFrame) => f.cmd === 'notifyPrintResult' && f.taskID === taskID && statuses.includes(String(f.taskStatus));
    // Frames already received are counted first, then those still to come.
    return this.next((f) => matches(f) && ++seen === nth, timeoutMs);
  }

  /** All notifyPrintResult frames received so far for a task. */
  notifications(taskID: string): CainiaoFrame[] {
    return this.frames.filter((f) => f.cmd === 'notifyPrintResult' && f.taskID === taskID);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000);
    });
  }
}

export interface PlainWaybillOptions {
  cpCode?: string;
  receiver?: { name: string; mobile: string; province: string; city: string; district: string; detail: string };
  routeCode?: string;
  sortation?: string;
  /** A custom-area content (ISV template) appended after the standard part. */
  customArea?: Record<string, unknown>;
}

/** A document with the plain Cainiao standard-waybill data (documentID = waybill number, as [CN] advises). */
export function plainWaybillDocument(waybillCode: string, o: PlainWaybillOptions = {}): CainiaoDocument {
  const r = o.receiver ?? { name: '李四', mobile: '13900000000', province: '浙江省', city: '杭州市', district: '余杭区', detail: '文一西路 969 号' };
  const contents: CainiaoContent[] = [
    {
      templateURL: 'http://cloudprint.cainiao.com/template/standard/101/605',
      signature: '',
      data: {
        cpCode: o.cpCode ?? 'ZTO',
        waybillCode,
        recipient: {
          name: r.name,
          mobile: r.mobile,
          phone: '',
          address: { province: r.province, city: r.city, district: r.district, town: '', detail: r.detail },
        },
        sender: {
          name: '仓库',
          mobile: '13800000000',
          phone: '',
          address: { province: '浙江省', city: '杭州市', district: '西湖区', town: '', detail: '仓库路 1 号' },
        },
        routingInfo: {
          routeCode: o.routeCode ?? '310-A01 05',
          sortation: { name: o.sortation ?? '杭州' },
          consolidation: { name: '杭州集包', code: '310' },
          origin: { code: '', name: '' },
        },
        shippingOption: '',
      },
    },
  ];
  if (o.customArea) contents.push({ templateURL: 'https://erp.example/custom-area.xml', data: o.customArea });
  return { documentID: waybillCode, contents };
}

/** A platform-encrypted document: what a page sends for a modern (encrypted) e-waybill. */
export function encryptedWaybillDocument(documentID: string): CainiaoDocument {
  return {
    documentID,
    contents: [
      {
        encryptedData: `AES:${Buffer.from(`not a real ciphertext for ${documentID}`).toString('base64')}`,
        signature: 'MD:placeholder==',
        templateURL: 'http://cloudprint.cainiao.com/template/standard/101/605',
        ver: 'waybill_print_secret_version_1',
      },
    ],
  };
}

/** A document carrying raw ZPL (the gateway's passthrough: `data.zpl`). */
export function rawZplDocument(documentID: string, zpl: string): CainiaoDocument {
  return { documentID, contents: [{ templateURL: 'packline:raw-zpl', data: { zpl } }] };
}
