/**
 * The handover manifest on paper, pure: ZPL II for the station's label printer (a summary the
 * courier signs, with the manifest id as a Code 128 barcode) and an HTML page for an office
 * printer (every parcel listed, a signature line). References are to the ZPL II Programming
 * Guide (Zebra P1012728), one section per command, as in label/zpl-label.ts.
 */
import { escapeFieldData } from '../label/zpl-label.js';
import type { Manifest } from './handover-decide.js';

/** Parcels listed on the label itself; the rest are counted (the HTML page lists all). */
const LABEL_LINES = 12;

function stamp(ms: number | null): string {
  if (ms === null) return '-';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Code 128 field data: letters, digits, `-` and `.` only (ids are made of those). */
function barcodeSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9.-]/g, '-');
}

/** A 76 × 130 mm summary label at 203 dpi (8 dots/mm), like the carrier label. */
export function manifestZpl(m: Manifest, expected: number): string {
  const out = [
    '^XA', // ^XA start format
    '^CI28', // ^CI28 UTF-8 field data
    '^PW608', // ^PW print width 76 mm
    '^LL1040', // ^LL label length 130 mm
    `^FO24,24^A0N,40,40^FH^FD${escapeFieldData(`HANDOVER ${m.carrier}`)}^FS`,
    `^FO24,80^A0N,28,28^FH^FD${escapeFieldData(`Manifest ${m.manifestId}`)}^FS`,
    `^FO24,120^BY2^BCN,80,N,N,N^FD${barcodeSafe(m.manifestId)}^FS`, // ^BC Code 128
    `^FO24,220^A0N,32,32^FH^FD${escapeFieldData(`Parcels: ${m.parcels.length}   Expected: ${expected}`)}^FS`,
    `^FO24,260^A0N,24,24^FH^FD${escapeFieldData(`Closed: ${stamp(m.closedAt)}`)}^FS`,
  ];
  let y = 310;
  for (const p of m.parcels.slice(0, LABEL_LINES)) {
    out.push(`^FO24,${y}^A0N,24,24^FH^FD${escapeFieldData(p.waybill)}^FS`);
    y += 32;
  }
  if (m.parcels.length > LABEL_LINES) out.push(`^FO24,${y}^A0N,24,24^FH^FD${escapeFieldData(`+ ${m.parcels.length - LABEL_LINES} more`)}^FS`);
  out.push('^FO24,960^A0N,28,28^FDCourier signature:^FS', '^FO300,990^GB280,2,2^FS', '^XZ'); // ^GB graphic box as the line
  return `${out.join('\n')}\n`;
}

function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A self-contained page (no scripts, no external assets) the browser prints as it is. */
export function manifestHtml(m: Manifest, expected: number, gatewayId: string): string {
  const rows = m.parcels
    .map((p, i) => `<tr><td>${i + 1}</td><td>${html(p.waybill)}</td><td>${html(p.orderId)}</td><td>${html(stamp(p.scannedAt))}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>交接单 ${html(m.manifestId)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}td,th{border:1px solid #000;padding:4px 8px;text-align:left}
.sign{margin-top:3em}@media print{.noprint{display:none}}</style></head>
<body>
<h1>快递交接单 Courier handover manifest</h1>
<p>Manifest <b id="manifest">${html(m.manifestId)}</b> · carrier 快递 <b id="carrier">${html(m.carrier)}</b> · gateway ${html(gatewayId)}</p>
<p>State 状态: <b id="state">${m.state}</b> · opened 开单 ${html(stamp(m.openedAt))} · closed 交接时间 ${html(stamp(m.closedAt))}</p>
<p>Parcels 件数: <b id="count">${m.parcels.length}</b> · expected 应交 <b id="expected">${expected}</b></p>
<table><thead><tr><th>#</th><th>Waybill 运单号</th><th>Order 订单</th><th>Scanned 扫描时间</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p class="sign">Courier signature 快递员签字: ____________________ &nbsp; Warehouse 仓库: ____________________</p>
<p class="noprint"><button onclick="print()">Print 打印</button></p>
</body></html>
`;
}
