/** Row builders for the storage tests (and anyone testing against a real Store). */
import type { DeviceRecord, Order, PrintJob, Shipment } from './types.js';

export function anOrder(over: Partial<Order> = {}): Order {
  return {
    orderId: 'O-1',
    shop: 'shop-a',
    barcodes: ['TB123456', 'PICK-9'],
    lines: [
      { sku: 'SKU-1', barcode: '6901234567892', name: 'Mug', qty: 2, unitGrams: 350 },
      { sku: 'SKU-2', barcode: '6901234567908', name: 'Spoon', qty: 1, unitGrams: 20.5 },
    ],
    packagingGrams: 80,
    flags: { refundRequested: false, refunded: false, cancelled: false, platformClosed: false, shipped: false },
    carrier: 'ZTO',
    waybill: '7312345678901',
    printData: { receiverName: '张三', receiverPhone: '138****0000', receiverAddress: '杭州市', sortCode: '300-A1' },
    shipBy: 1_732_700_000_000,
    revision: 3,
    updatedAt: 1_732_600_000_000,
    ...over,
  };
}

export function aShipment(over: Partial<Shipment> = {}): Shipment {
  return {
    shipmentId: 'S-1',
    orderId: 'O-1',
    stationId: 'st-1',
    state: 'verifying',
    reasonCode: null,
    scanned: { '6901234567892': 1 },
    expectedGrams: 800.5,
    actualGrams: null,
    carrier: null,
    waybill: null,
    labelJobId: null,
    operator: 'op-7',
    openedAt: 1_000,
    updatedAt: 1_000,
    shippedAt: null,
    ...over,
  };
}

export function aPrintJob(over: Partial<PrintJob> = {}): PrintJob {
  return {
    jobId: 'J-1',
    shipmentId: 'S-1',
    printerId: 'printer-1',
    format: 'zpl',
    data: '^XA^FO50,50^FDhello^FS^XZ',
    state: 'queued',
    reason: null,
    createdAt: 2_000,
    updatedAt: 2_000,
    ...over,
  };
}

export function aDevice(over: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    deviceId: 'scale-1',
    role: 'scale',
    station: 'st-1',
    model: 'acme-s1',
    secretHash: 'scrypt$16384$8$1$c2FsdA==$aGFzaA==',
    createdAt: 3_000,
    rotatedAt: 3_000,
    ...over,
  };
}
