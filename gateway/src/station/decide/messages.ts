/**
 * What the station screen says. Refusals, holds and intercepts use the error catalogue
 * (contracts/errors.ts) so the code and both languages are the same everywhere; the few
 * progress messages that are not errors live here.
 */
import { describeError, type ErrorCode, type ErrorDetails } from '../../../../contracts/errors.js';
import type { AlertLevel, StationAlert } from '../types.js';

const INFO = {
  scan_items: { en: 'Order {orderId}: scan the items', zh: '订单 {orderId}：请扫描商品' },
  item_counted: { en: 'Item {barcode}: {scanned}/{qty}', zh: '商品 {barcode}：{scanned}/{qty}' },
  place_on_scale: { en: 'Order {orderId}: place the parcel on the scale', zh: '订单 {orderId}：请将包裹放上电子秤' },
  label_queued: { en: 'Printing label {waybill}', zh: '正在打印面单 {waybill}' },
  shipped: { en: 'Shipped {waybill}', zh: '已发货 {waybill}' },
  released: { en: 'Released by supervisor {supervisor}', zh: '主管 {supervisor} 已放行' },
  cleared: { en: 'Station cleared', zh: '工位已清空' },
  batch_picked: {
    en: 'Batch {batchId} #{seq}: order {orderId}, place the parcel on the scale',
    zh: '波次 {batchId} 第 {seq} 单：订单 {orderId}，请将包裹放上电子秤',
  },
  preprinted: {
    en: 'Batch {batchId}: {printed} labels printed ahead, {left} left',
    zh: '波次 {batchId}：已预打印 {printed} 张面单，剩余 {left}',
  },
  relabelled: {
    en: 'Carrier switched: pull label {oldWaybill}, new label {waybill} printing',
    zh: '已改派快递：请撕下旧面单 {oldWaybill}，新面单 {waybill} 打印中',
  },
  preprint_shipped: {
    en: 'Batch {batchId} #{seq}: shipped {waybill}',
    zh: '波次 {batchId} 第 {seq} 单：已发货 {waybill}',
  },
  pull_parcel: {
    en: 'Label printed but order {orderId} is intercepted: pull the parcel',
    zh: '面单已打印但订单 {orderId} 已被拦截：请取出包裹',
  },
} as const;

export type InfoKey = keyof typeof INFO;

function fill(template: string, details: ErrorDetails): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const v = details[key];
    return v === undefined || v === null ? whole : String(v);
  });
}

export function errorAlert(code: ErrorCode, details: ErrorDetails, level: AlertLevel): StationAlert {
  const { en, zh } = describeError(code, details);
  return { level, code, details, message: en, messageZh: zh };
}

export function infoAlert(key: InfoKey, details: ErrorDetails, level: AlertLevel = 'info'): StationAlert {
  const t = INFO[key];
  return { level, code: null, details, message: fill(t.en, details), messageZh: fill(t.zh, details) };
}
