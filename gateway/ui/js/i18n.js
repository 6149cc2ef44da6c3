// Strings of the screens in English and Chinese. The language is ?lang=, else the one chosen
// with the toggle (kept in localStorage), else the browser's (navigator.language).
// Messages that come from the gateway (alerts, errors) carry both languages already.

const T = {
  station: { en: 'Station', zh: '工位' },
  dashboard: { en: 'Dashboard', zh: '看板' },
  preflight: { en: 'Preflight', zh: '高峰前检查' },
  live: { en: 'Live', zh: '在线' },
  connecting: { en: 'Connecting…', zh: '连接中…' },
  reconnecting: { en: 'Reconnecting…', zh: '正在重连…' },
  reconnecting_long: {
    en: 'Connection to the gateway lost — reconnecting. Do not ship until it is back.',
    zh: '与网关的连接已断开，正在重连。恢复前请勿发货。',
  },
  unknown_station: { en: 'Unknown station', zh: '未知工位' },
  token_not_station: { en: 'This token is not limited to one station: open /ui/station/<id>', zh: '该令牌不限于单个工位：请打开 /ui/station/<工位>' },
  idle: { en: 'Scan an order or pick slip', zh: '请扫描订单或拣货单' },
  order: { en: 'Order', zh: '订单' },
  waybill: { en: 'Waybill', zh: '运单号' },
  carrier: { en: 'Carrier', zh: '快递' },
  item: { en: 'Item', zh: '商品' },
  qty: { en: 'Qty', zh: '数量' },
  weight: { en: 'Weight', zh: '重量' },
  expected: { en: 'Expected', zh: '预期' },
  difference: { en: 'Difference', zh: '差值' },
  stable: { en: 'STABLE', zh: '稳定' },
  settling: { en: 'settling…', zh: '稳定中…' },
  no_reading: { en: 'no reading', zh: '无读数' },
  label: { en: 'Label', zh: '面单' },
  label_none: { en: 'not yet', zh: '未打印' },
  label_printing: { en: 'printing…', zh: '打印中…' },
  label_printed: { en: 'printed', zh: '已打印' },
  label_failed: { en: 'FAILED', zh: '打印失败' },
  state_idle: { en: 'idle', zh: '空闲' },
  state_verifying: { en: 'scanning items', zh: '扫描商品' },
  state_weighing: { en: 'weighing', zh: '称重' },
  state_held: { en: 'on hold', zh: '暂扣' },
  state_intercepted: { en: 'INTERCEPTED', zh: '已拦截' },
  state_labelling: { en: 'printing label', zh: '打印面单' },
  state_printed: { en: 'printed', zh: '已打印' },
  state_shipped: { en: 'shipped', zh: '已发货' },
  state_abandoned: { en: 'abandoned', zh: '已放弃' },
  intercepted_title: { en: 'INTERCEPTED — DO NOT SHIP', zh: '已拦截 — 禁止发货' },
  hold_title: { en: 'ON HOLD', zh: '暂扣' },
  alert_title: { en: 'STOP', zh: '停止' },
  hold_hint: { en: 'Reweigh the parcel, or ask a supervisor to release it.', zh: '请重新称重，或请主管放行。' },
  intercept_hint: { en: 'Put the parcel in the exception cart. Scan the next order to continue.', zh: '请将包裹放入异常筐。扫描下一个订单继续。' },
  manual_placeholder: { en: 'Scanner dead? Type the barcode and press Enter', zh: '扫描枪故障？输入条码后按回车' },
  manual_send: { en: 'Enter', zh: '提交' },
  reprint: { en: 'Reprint label', zh: '补打面单' },
  reprint_title: { en: 'Reprint label (supervisor)', zh: '补打面单（需主管授权）' },
  supervisor: { en: 'Supervisor', zh: '主管' },
  password: { en: 'Password', zh: '密码' },
  note: { en: 'Note (why)', zh: '备注（原因）' },
  cancel: { en: 'Cancel', zh: '取消' },
  ok: { en: 'OK', zh: '确定' },
  reprinted: { en: 'Reprint sent: job {job}', zh: '已发送补打：任务 {job}' },
  nothing_to_reprint: { en: 'No label to reprint on this station', zh: '本工位没有可补打的面单' },
  scanner: { en: 'Scanner', zh: '扫描枪' },
  scale: { en: 'Scale', zh: '电子秤' },
  printer: { en: 'Printer', zh: '打印机' },
  display: { en: 'Screen', zh: '显示屏' },
  conveyor: { en: 'DWS', zh: '流水线' },
  pda: { en: 'PDA', zh: 'PDA' },
  online: { en: 'online', zh: '在线' },
  offline: { en: 'offline', zh: '离线' },
  fault: { en: 'fault', zh: '故障' },
  cloud: { en: 'Cloud', zh: '云端' },
  cloud_online: { en: 'online', zh: '在线' },
  cloud_degraded: { en: 'degraded', zh: '不稳定' },
  cloud_offline: { en: 'OFFLINE', zh: '离线' },
  cloud_disabled: { en: 'not configured', zh: '未配置' },
  cloud_contract_error: { en: 'CONTRACT ERROR', zh: '协议错误' },
  login_title: { en: 'Packline screen: API token', zh: 'Packline 屏幕：API 令牌' },
  login_text: {
    en: 'Paste the station (or admin) token from data/api-tokens.json on the gateway. It is kept in this browser.',
    zh: '粘贴网关 data/api-tokens.json 中的工位（或管理员）令牌。令牌将保存在此浏览器中。',
  },
  login_bad: { en: 'The gateway refused this token.', zh: '网关拒绝了此令牌。' },
  token: { en: 'Token', zh: '令牌' },
  save: { en: 'Save', zh: '保存' },
  sign_out: { en: 'Forget token', zh: '清除令牌' },
  parcels_hour: { en: 'Parcels, last hour', zh: '近一小时包裹' },
  rate_hour: { en: 'Rate now (/h)', zh: '当前速率（/小时）' },
  intercepts_hour: { en: 'Intercepts, last hour', zh: '近一小时拦截' },
  sync_link: { en: 'Cloud link', zh: '云端链路' },
  backlog: { en: 'Backlog (events)', zh: '待同步事件' },
  lag: { en: 'Lag', zh: '延迟' },
  coverage: { en: 'Waybill coverage', zh: '面单覆盖率' },
  coverage_detail: { en: '{with} of {open} open orders', zh: '{open} 个待发订单中 {with} 个' },
  exceptions_open: { en: 'Open exceptions', zh: '待处理异常' },
  throughput: { en: 'Throughput', zh: '产能' },
  unit: { en: 'Station / line', zh: '工位 / 流水线' },
  state: { en: 'State', zh: '状态' },
  last_hour: { en: 'Last hour', zh: '近一小时' },
  per_hour: { en: '/h now', zh: '当前 /小时' },
  trend: { en: 'Last 60 min (5-min bars)', zh: '近 60 分钟（5 分钟一格）' },
  devices: { en: 'Devices', zh: '设备' },
  media: { en: 'media', zh: '耗材' },
  exceptions: { en: 'Exception queue', zh: '异常队列' },
  none: { en: 'None', zh: '无' },
  kind_intercept: { en: 'Intercept', zh: '拦截' },
  kind_hold: { en: 'Hold', zh: '暂扣' },
  kind_print_failure: { en: 'Print failed', zh: '打印失败' },
  kind_sync_failure: { en: 'Sync failed', zh: '同步失败' },
  kind_refused_cancel: { en: 'Cancel refused', zh: '取消被拒' },
  kind_recall: { en: 'Recall', zh: '召回' },
  when: { en: 'When', zh: '时间' },
  what: { en: 'What', zh: '内容' },
  action: { en: 'Action', zh: '操作' },
  act_release: { en: 'Release', zh: '放行' },
  act_reprint: { en: 'Reprint', zh: '补打' },
  act_retry: { en: 'Retry', zh: '重试' },
  retry_all: { en: 'Retry all sync failures', zh: '全部重试' },
  release_title: { en: 'Release weight hold', zh: '放行重量暂扣' },
  release_here: { en: 'Supervisor release', zh: '主管放行' },
  done: { en: 'Done', zh: '已完成' },
  outage: {
    en: 'CLOUD LINK DOWN since {since} ({for}). Stations keep shipping on the local cache; {backlog} events wait to sync.',
    zh: '云端链路中断，自 {since}（{for}）。工位继续使用本地缓存发货；{backlog} 个事件待同步。',
  },
  contract_outage: {
    en: 'CLOUD ANSWERS DO NOT MATCH THE SYNC CONTRACT since {since}: {cause}. Stations keep shipping; {backlog} events wait to sync. Tell the cloud team (docs/sync.md).',
    zh: '云端应答不符合同步协议，自 {since}：{cause}。工位继续发货；{backlog} 个事件待同步。请通知云端团队（docs/sync.md）。',
  },
  updated: { en: 'updated {time}', zh: '更新于 {time}' },
  preflight_title: { en: 'Preflight: ready for the peak?', zh: '高峰前检查：准备好了吗？' },
  run_again: { en: 'Run again', zh: '重新检查' },
  test_print: { en: 'Run with a test print on every printer', zh: '检查并让每台打印机打印测试页' },
  status_pass: { en: 'PASS', zh: '通过' },
  status_warn: { en: 'WARN', zh: '警告' },
  status_fail: { en: 'FAIL', zh: '失败' },
  preflight_missing: {
    en: 'This gateway has no preflight check (GET /api/v1/preflight answered 404).',
    zh: '此网关没有高峰前检查（GET /api/v1/preflight 返回 404）。',
  },
  running: { en: 'Running…', zh: '检查中…' },
  generated: { en: 'Report of {time}', zh: '报告时间 {time}' },
  admin_needed: { en: 'This needs the admin token.', zh: '此操作需要管理员令牌。' },
  // Picking panel (docs/picking.md): waves, short picks, replenishment queue, pickers.
  picking: { en: 'Picking', zh: '拣货' },
  waves_open: { en: 'Waves waiting', zh: '待拣波次' },
  waves_picking: { en: 'Waves picking', zh: '拣货中波次' },
  waves_closed: { en: 'Waves closed', zh: '已完成波次' },
  units_picked: { en: 'Units picked', zh: '已拣件数' },
  short_picks: { en: 'Short picks', zh: '缺货' },
  replenishment_queue: { en: 'Replenishment queue', zh: '补货队列' },
  pickers: { en: 'Pickers', zh: '拣货员' },
  lines_per_hour: { en: 'lines/h', zh: '行/小时' },
  act_release_short: { en: 'Ship picked', zh: '按已拣发货' },
  act_cancel_short: { en: 'Cancel order', zh: '取消订单' },
  sort_to_slot: { en: 'Put {item} in slot {slot} ({order})', zh: '{item} 放入 {slot} 号格（{order}）' },
  picked_slot: { en: 'Wave {wave} · slot {slot}', zh: '波次 {wave} · {slot} 号格' },
};

const KEY = 'packline.lang';

function initial() {
  const q = new URLSearchParams(location.search).get('lang');
  if (q === 'zh' || q === 'en') return q;
  const saved = localStorage.getItem(KEY);
  if (saved === 'zh' || saved === 'en') return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

let current = initial();
const listeners = new Set();
document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';

export function lang() {
  return current;
}

export function setLang(l) {
  current = l;
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  for (const fn of listeners) fn(l);
}

export function onLang(fn) {
  listeners.add(fn);
}

/** t('reprinted', { job: 'J-1' }) */
export function t(key, vars) {
  const entry = T[key];
  let s = entry ? entry[current] : key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (w, k) => (k in vars ? String(vars[k]) : w));
  return s;
}

/** The gateway's own bilingual text ({message, message_zh}). */
export function msg(o) {
  if (!o) return '';
  return current === 'zh' ? (o.message_zh ?? o.messageZh ?? o.message) : o.message;
}
