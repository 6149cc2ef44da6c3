/**
 * The one error catalogue of Packline.
 *
 * Every refusal, hold or failure that leaves the gateway (MQTT `dev/{id}/err`, the station
 * screen, the HTTP API, the CLI, the sync protocol) carries one of these codes. Codes are
 * stable wire identifiers: never rename or reuse one; add a new code instead. Each entry
 * has the HTTP status used when the error crosses the HTTP API and the two human messages
 * a station shows (English and Chinese). `{name}` placeholders are filled from `details`.
 *
 * `docs/errors.md` is generated from this table (a test keeps the two in step).
 */

export interface ErrorSpec {
  /** HTTP status when this error is the answer to an API call. */
  readonly http: number;
  readonly en: string;
  readonly zh: string;
  /**
   * Set on a code nothing produces today, with the reason it is kept: codes are never reused,
   * so a reserved one stays in the catalogue (contracts/errors-usage.test.ts checks that every
   * other code has a producer).
   */
  readonly reserved?: string;
}

export const ERRORS = {
  // ---- input at the edge (any transport) ---------------------------------------------
  PKL_PAYLOAD_INVALID: {
    http: 400,
    en: 'Invalid payload: {reason}',
    zh: '报文格式错误：{reason}',
  },
  PKL_PAYLOAD_NOT_JSON: { http: 400, en: 'Payload is not valid JSON', zh: '报文不是合法的 JSON' },
  PKL_PAYLOAD_TOO_LARGE: {
    http: 413,
    en: 'Payload of {size} bytes exceeds the limit of {limit} bytes',
    zh: '报文 {size} 字节，超过上限 {limit} 字节',
  },
  PKL_TOPIC_UNKNOWN: {
    http: 404,
    en: 'Unknown topic {topic}',
    zh: '未知主题 {topic}',
  },
  PKL_DEVICE_UNKNOWN: { http: 404, en: 'Unknown device {deviceId}', zh: '未登记的设备 {deviceId}' },
  PKL_DEVICE_EXISTS: { http: 409, en: 'Device {deviceId} already exists', zh: '设备 {deviceId} 已存在' },
  PKL_DEVICE_ROLE_MISMATCH: {
    http: 403,
    en: 'Device {deviceId} ({role}) may not send {kind} events',
    zh: '设备 {deviceId}（{role}）不能发送 {kind} 事件',
  },
  PKL_DEVICE_NOT_BOUND: {
    http: 409,
    en: 'Device {deviceId} is not bound to a station or line',
    zh: '设备 {deviceId} 未绑定工位或流水线',
  },
  PKL_DUPLICATE_MESSAGE: {
    http: 200,
    en: 'Message {msgId} was already applied',
    zh: '消息 {msgId} 已处理过',
  },

  // ---- broker -----------------------------------------------------------------------
  PKL_AUTH_FAILED: { http: 401, en: 'Wrong credentials', zh: '认证失败' },
  PKL_ACL_DENIED: {
    http: 403,
    en: '{deviceId} may not {action} {topic}',
    zh: '{deviceId} 无权 {action} {topic}',
  },
  PKL_RATE_LIMITED: {
    http: 429,
    en: 'Too many messages from {deviceId}; slow down',
    zh: '{deviceId} 发送过快，已限流',
  },

  // ---- shipment flow: interception (guide: 拦截节点) ---------------------------------
  PKL_INTERCEPT_REFUND_REQUESTED: {
    http: 409,
    en: 'Intercepted: the buyer requested a refund for order {orderId}',
    zh: '拦截：订单 {orderId} 买家已申请退款',
  },
  PKL_INTERCEPT_REFUNDED: {
    http: 409,
    en: 'Intercepted: order {orderId} was refunded',
    zh: '拦截：订单 {orderId} 已退款',
  },
  PKL_INTERCEPT_CANCELLED: {
    http: 409,
    en: 'Intercepted: order {orderId} was cancelled',
    zh: '拦截：订单 {orderId} 已取消',
  },
  PKL_INTERCEPT_PLATFORM_CLOSED: {
    http: 409,
    en: 'Intercepted: order {orderId} is closed on the platform',
    zh: '拦截：订单 {orderId} 平台已关闭',
  },
  PKL_INTERCEPT_ALREADY_SHIPPED: {
    http: 409,
    en: 'Intercepted: order {orderId} has already shipped',
    zh: '拦截：订单 {orderId} 已发货',
  },

  // ---- shipment flow: scans and items ------------------------------------------------
  PKL_ORDER_NOT_FOUND: {
    http: 404,
    en: 'No order matches barcode {barcode}',
    zh: '条码 {barcode} 找不到对应订单',
  },
  PKL_NO_OPEN_SHIPMENT: {
    http: 409,
    en: 'Scan an order first (no shipment open at station {stationId})',
    zh: '请先扫描订单（工位 {stationId} 没有进行中的包裹）',
  },
  PKL_ITEM_WRONG: {
    http: 409,
    en: 'Wrong item {barcode}: not in order {orderId}',
    zh: '商品错误：{barcode} 不属于订单 {orderId}',
  },
  PKL_ITEM_EXTRA: {
    http: 409,
    en: 'Extra item {barcode}: order {orderId} needs only {expected}',
    zh: '商品多扫：{barcode} 订单 {orderId} 只需 {expected} 件',
  },
  PKL_ITEMS_MISSING: {
    http: 409,
    en: 'Items missing: {missing}',
    zh: '商品缺少：{missing}',
    reserved: 'a weight before verification completed is not taken (PKL_WEIGHT_STALE); kept for a station that ships with items short',
  },
  PKL_SHIPMENT_ABANDONED: {
    http: 409,
    en: 'Shipment {shipmentId} was set aside by a new order scan',
    zh: '包裹 {shipmentId} 被新订单扫描挂起',
  },

  // ---- shipment flow: weighing (guide: 称重校验) -------------------------------------
  PKL_WEIGHT_UNSTABLE: {
    http: 409,
    en: 'Weight not stable yet',
    zh: '重量未稳定',
    reserved: 'unstable readings only move the live weight (docs/shipment-flow.md); kept for drivers that answer a weigh command',
  },
  PKL_WEIGHT_STALE: {
    http: 409,
    en: 'Weight reading predates the last item scan; lift and place the parcel again',
    zh: '重量读数早于最后一次扫描，请重新放置包裹',
  },
  PKL_WEIGHT_OUT_OF_TOLERANCE: {
    http: 409,
    en: 'Weight {actual} g outside {expected} g ± {tolerance} g',
    zh: '重量 {actual} 克超出预期 {expected} 克 ± {tolerance} 克',
  },

  // ---- shipment flow: waybill and label ----------------------------------------------
  PKL_AWAITING_WAYBILL: {
    http: 409,
    en: 'Order {orderId} has no waybill yet',
    zh: '订单 {orderId} 尚无电子面单号',
  },
  PKL_LABEL_TEMPLATE_ERROR: {
    http: 500,
    en: 'Label template error: {reason}',
    zh: '面单模板错误：{reason}',
  },
  PKL_PRINTER_UNAVAILABLE: {
    http: 503,
    en: 'Printer {deviceId} is not available',
    zh: '打印机 {deviceId} 不可用',
  },
  PKL_PRINT_FAILED: {
    http: 502,
    en: 'Printing failed on {deviceId}: {reason}',
    zh: '打印失败（{deviceId}）：{reason}',
  },
  PKL_PRINT_QUEUE_FULL: {
    http: 503,
    en: 'Print channel {channel} is full ({limit} labels waiting on every printer); scan again in a moment',
    zh: '打印通道 {channel} 已满（每台打印机都有 {limit} 张待打印），请稍后再扫',
  },
  PKL_PRINT_FAILED_OVER: {
    http: 200,
    en: 'Printer {deviceId} failed ({reason}); label sent to {to}',
    zh: '打印机 {deviceId} 故障（{reason}），面单已改由 {to} 打印',
  },
  PKL_PRINT_JOB_UNKNOWN: {
    http: 404,
    en: 'Print job {jobId} is unknown or already finished',
    zh: '打印任务 {jobId} 不存在或已结束',
  },
  PKL_PRINT_ENCRYPTED_DOCUMENT: {
    http: 422,
    en: 'Document {documentID} is platform-encrypted (encryptedData) and cannot be rendered by the gateway; print it through the platform print component',
    zh: '文档 {documentID} 为平台加密面单（encryptedData），网关无法渲染，请用平台官方打印组件打印',
  },
  PKL_PREVIEW_UNSUPPORTED: {
    http: 501,
    en: 'No PNG preview for {format} labels: no offline renderer for this language',
    zh: '暂不支持 {format} 面单的 PNG 预览（无离线渲染器）',
  },
  PKL_PREVIEW_FAILED: {
    http: 500,
    en: 'Label preview failed: {reason}',
    zh: '面单预览失败：{reason}',
  },
  // Label templates per carrier (printing.templates, docs/printing.md). A template error is the
  // site's to fix: the label's job fails with cause template_error (a print exception).
  PKL_TEMPLATE_NOT_FOUND: {
    http: 500,
    en: 'No label template {template} (carrier {carrier})',
    zh: '找不到面单模板 {template}（快递公司 {carrier}）',
  },
  PKL_TEMPLATE_INVALID: {
    http: 500,
    en: 'Label template {template} is invalid: {reason}',
    zh: '面单模板 {template} 无效：{reason}',
  },
  PKL_TEMPLATE_FONT_INVALID: {
    http: 500,
    en: 'Label font {font} cannot be used: {reason}',
    zh: '面单字体 {font} 无法使用：{reason}',
  },
  PKL_TEMPLATE_GLYPH_MISSING: {
    http: 500,
    en: 'Label font {font} has no glyph for "{char}" (template {template})',
    zh: '面单字体 {font} 缺少字符“{char}”（模板 {template}）',
  },
  PKL_SHIPMENT_NOT_FOUND: { http: 404, en: 'Shipment {shipmentId} not found', zh: '包裹 {shipmentId} 不存在' },
  PKL_SHIPMENT_STATE: {
    http: 409,
    en: 'Shipment {shipmentId} is {state}; {action} is not allowed',
    zh: '包裹 {shipmentId} 当前为 {state}，不能 {action}',
  },
  PKL_STATION_UNKNOWN: { http: 404, en: 'Unknown station {stationId}', zh: '未知工位 {stationId}' },
  PKL_LINE_UNKNOWN: { http: 404, en: 'Unknown line {lineId}', zh: '未知流水线 {lineId}' },

  // ---- printing: reprint guard (docs/printing.md; docs/http.md "Printing") ----------------------
  // UNKNOWN and PASSWORD_WRONG share status and wording on purpose: a client cannot tell a
  // wrong name from a wrong password (no probing for supervisor names); the log tells them apart.
  PKL_SUPERVISOR_UNKNOWN: {
    http: 403,
    en: 'Supervisor {supervisor}: unknown name or wrong password',
    zh: '主管 {supervisor}：账号不存在或密码错误',
  },
  PKL_SUPERVISOR_PASSWORD_WRONG: {
    http: 403,
    en: 'Supervisor {supervisor}: unknown name or wrong password',
    zh: '主管 {supervisor}：账号不存在或密码错误',
  },
  PKL_REPRINT_LOCKED: {
    http: 429,
    en: 'Too many wrong passwords for supervisor {supervisor}; reprints locked for {retryAfterS} s',
    zh: '主管 {supervisor} 密码错误次数过多，补打已锁定 {retryAfterS} 秒',
  },
  PKL_HOST_NOT_ALLOWED: {
    http: 421,
    en: 'Host {host} is not a name of this gateway (http.allowedHosts)',
    zh: '主机名 {host} 不是本网关的名称（http.allowedHosts）',
  },
  PKL_ORIGIN_NOT_ALLOWED: {
    http: 403,
    en: 'Requests from pages of {origin} are not allowed (http.allowedHosts)',
    zh: '不允许来自 {origin} 页面的请求（http.allowedHosts）',
  },
  PKL_LOGIN_THROTTLED: {
    http: 429,
    en: 'Too many failed logins from {source}; retry in {retryAfterS} s',
    zh: '来自 {source} 的登录失败次数过多，请 {retryAfterS} 秒后重试',
  },
  PKL_PRINT_PENDING: {
    http: 409,
    en: 'Label job {jobId} of shipment {shipmentId} is still printing; a reprint now would print it twice',
    zh: '包裹 {shipmentId} 的面单任务 {jobId} 仍在打印中，现在补打会重复打印',
  },

  // ---- storage and capacity ------------------------------------------------------------
  PKL_STORE_UNAVAILABLE: {
    http: 503,
    en: 'Storage is not available: {reason}',
    zh: '存储不可用：{reason}',
  },
  PKL_STORE_OP_INVALID: {
    http: 500,
    en: 'Store refused write op {op}: {reason}',
    zh: '存储拒绝写入操作 {op}：{reason}',
  },
  PKL_DISK_FULL: {
    http: 507,
    en: 'Disk almost full ({freeMb} MB free); new work refused until space returns',
    zh: '磁盘将满（剩余 {freeMb} MB），暂停接收新任务',
  },
  PKL_OVERLOADED: {
    http: 503,
    en: 'Gateway overloaded; retry shortly',
    zh: '网关繁忙，请稍后重试',
  },

  // ---- HTTP API ---------------------------------------------------------------------
  PKL_UNAUTHORIZED: { http: 401, en: 'Missing or wrong API token', zh: 'API 令牌缺失或错误' },
  PKL_FORBIDDEN: { http: 403, en: 'This token may not {action}', zh: '该令牌无权 {action}' },
  PKL_NOT_FOUND: { http: 404, en: 'Not found: {what}', zh: '未找到：{what}' },
  PKL_INTERNAL: { http: 500, en: 'Internal error ({ref})', zh: '内部错误（{ref}）' },

  // ---- device protocols (bytes from scales and other serial/HID devices) --------------
  PKL_FRAME_INVALID: {
    http: 502,
    en: 'Malformed {protocol} frame dropped: {reason}',
    zh: '{protocol} 数据帧格式错误，已丢弃：{reason}',
  },
  // A keyboard-wedge scan that stopped before its configured suffix (Enter/Tab): cut off by a
  // pulled cable or a scanner reset. Dropped, never passed on as a (half) code.
  PKL_SCAN_INCOMPLETE: {
    http: 502,
    en: '{protocol} scan dropped: {length} characters without the {suffix} suffix',
    zh: '{protocol} 扫码不完整（{length} 个字符，缺少 {suffix} 结束符），已丢弃',
  },
  PKL_FRAME_CHECKSUM: {
    http: 502,
    en: '{protocol} frame dropped: checksum {actual}, expected {expected}',
    zh: '{protocol} 数据帧校验错误（收到 {actual}，应为 {expected}），已丢弃',
  },
  PKL_FRAME_UNIT_UNKNOWN: {
    http: 502,
    en: '{protocol} frame has an unknown weight unit {unit}',
    zh: '{protocol} 数据帧的重量单位 {unit} 无法识别',
  },
  PKL_SCALE_COMMAND_UNSUPPORTED: {
    http: 400,
    en: 'Scale protocol {protocol} has no {command} command',
    zh: '秤协议 {protocol} 不支持 {command} 命令',
  },
  PKL_DEVICE_DISCONNECTED: {
    http: 503,
    en: 'Device {deviceId} is not connected ({reason})',
    zh: '设备 {deviceId} 未连接（{reason}）',
  },

  // ---- configuration -------------------------------------------------------------------
  PKL_CONFIG_INVALID: {
    http: 500,
    en: 'Invalid configuration: {reason}',
    zh: '配置错误：{reason}',
  },
  // A file holding secrets (device secrets, API tokens) was readable by group or others: the
  // gateway narrows it to 0600 and says so; the secrets in it should be rotated.
  PKL_DATA_FILE_EXPOSED: {
    http: 500,
    en: 'Personal-data file {file} was readable by others (mode {mode}); narrowed to owner-only',
    zh: '含个人信息的文件 {file} 曾可被他人读取（权限 {mode}）；已改为仅属主可读',
  },
  PKL_SECRET_FILE_EXPOSED: {
    http: 500,
    en: 'Secret file {file} was readable by others (mode {mode}); narrowed to 0600, rotate the secrets it holds',
    zh: '密钥文件 {file} 曾可被他人读取（权限 {mode}）；已改为 0600，请轮换其中的密钥',
  },

  // ---- cloud sync (docs/sync.md) --------------------------------------------------------
  PKL_CANCEL_TOO_LATE: {
    http: 409,
    en: 'Cancel of order {orderId} refused: shipment {shipmentId} is already {state}',
    zh: '订单 {orderId} 取消被拒：包裹 {shipmentId} 已在 {state} 环节',
  },
  PKL_SYNC_NOT_CONFIGURED: {
    http: 409,
    en: 'Cloud sync is not configured (sync.url is not set)',
    zh: '未配置云端同步（sync.url 未设置）',
  },
  PKL_SYNC_NOT_FAILED: {
    http: 409,
    en: 'Event {seq} is not tagged sync failed',
    zh: '事件 {seq} 没有同步失败标记',
  },
  PKL_SYNC_KEY_MISSING: {
    http: 500,
    en: 'Cloud sync key missing: set sync.keyFile or PACKLINE_SYNC_KEY ({reason})',
    zh: '缺少云端同步密钥：请设置 sync.keyFile 或 PACKLINE_SYNC_KEY（{reason}）',
  },

  // ---- operations: preflight (docs/operations.md) -----------------------------------------
  PKL_PREFLIGHT_UNAVAILABLE: {
    http: 503,
    en: 'No preflight report from {url}: {reason}',
    zh: '无法从 {url} 获取预检报告：{reason}',
  },
  PKL_PREFLIGHT_NO_TOKEN: {
    http: 401,
    en: 'No API token for the preflight: {reason}',
    zh: '预检缺少 API 令牌：{reason}',
  },

  // ---- notifications (cloud sync alerts: webhook robots, e-mail) -----------------------
  PKL_NOTIFY_UNREACHABLE: {
    http: 503,
    en: 'Notification channel {channel} unreachable: {reason}',
    zh: '通知渠道 {channel} 无法连接：{reason}',
  },
  PKL_NOTIFY_TIMEOUT: {
    http: 504,
    en: 'Notification channel {channel} did not answer {step} within {timeoutMs} ms',
    zh: '通知渠道 {channel} 在 {timeoutMs} 毫秒内未响应 {step}',
  },
  PKL_NOTIFY_REJECTED: {
    http: 502,
    en: 'Notification channel {channel} refused the message: {reason}',
    zh: '通知渠道 {channel} 拒收消息：{reason}',
  },
  PKL_NOTIFY_GAVE_UP: {
    http: 502,
    en: 'Gave up notifying {channel} of {key} after {attempts} attempts: {reason}',
    zh: '告警 {key} 发送到 {channel} 失败 {attempts} 次，已放弃：{reason}',
  },
  PKL_SMTP_REPLY: {
    http: 502,
    en: 'SMTP server answered {replyCode} to {command}: {reply}',
    zh: 'SMTP 服务器对 {command} 返回 {replyCode}：{reply}',
  },
  PKL_SMTP_PROTOCOL: {
    http: 502,
    en: 'SMTP protocol error: {reason}',
    zh: 'SMTP 协议错误：{reason}',
  },
  // ---- picking on PDAs, waves, short picks, replenishment (docs/picking.md) ----------
  PKL_WAVE_UNKNOWN: { http: 404, en: 'Unknown wave or pick list {waveId}', zh: '未知波次或拣货单 {waveId}' },
  PKL_WAVE_STATE: {
    http: 409,
    en: 'Wave {waveId} is {waveState}; it cannot be {wanted}',
    zh: '波次 {waveId} 当前为 {waveState}，不能{wanted}',
  },
  PKL_WAVE_EMPTY: {
    http: 409,
    en: 'No pending order fits the wave rules',
    zh: '没有符合波次规则的待拣订单',
  },
  PKL_WAVE_ORDER_TOO_BIG: {
    http: 409,
    en: 'Order {orderId} alone exceeds the wave limits (lines or units)',
    zh: '订单 {orderId} 单独就超过波次上限（行数或件数）',
  },
  PKL_PICK_ORDER_BUSY: {
    http: 409,
    en: 'Order {orderId} is already in wave {waveId}',
    zh: '订单 {orderId} 已在波次 {waveId} 中',
  },
  PKL_PICK_NO_STOCK: {
    http: 409,
    en: 'Not enough stock on the pick faces for {sku} of order {orderId}',
    zh: '订单 {orderId} 的商品 {sku} 拣货位库存不足',
  },
  PKL_PICK_WRONG_LOCATION: {
    http: 409,
    en: 'Wrong location {location}: go to {expected}',
    zh: '货位错误：{location}，请到 {expected}',
  },
  PKL_PICK_WRONG_ITEM: {
    http: 409,
    en: 'Wrong item {barcode} at {location}: pick {sku}',
    zh: '商品错误：{location} 扫到 {barcode}，应拣 {sku}',
  },
  PKL_PICK_QTY_OVER: {
    http: 409,
    en: 'Quantity {qty} is more than the {remaining} still to pick at {location}',
    zh: '数量 {qty} 超过 {location} 待拣数 {remaining}',
  },
  PKL_PICK_STOCK_LOW: {
    http: 409,
    en: 'The book holds only {onHand} of {sku} at {location}: report a short pick',
    zh: '{location} 的 {sku} 账面仅 {onHand} 件，请报缺货',
  },
  PKL_PICK_SHORT: {
    http: 409,
    en: 'Order {orderId} is held: short pick of {sku} at {location}',
    zh: '订单 {orderId} 暂扣：{location} 的 {sku} 缺货',
  },
  PKL_PICK_NOT_SHORT: { http: 409, en: 'Order {orderId} is not held short', zh: '订单 {orderId} 未因缺货暂扣' },
  PKL_PICK_PARTIAL_NOT_ALLOWED: {
    http: 409,
    en: 'Order {orderId} may not ship partially',
    zh: '订单 {orderId} 不允许部分发货',
  },
  PKL_SORT_NOT_NEEDED: {
    http: 409,
    en: 'No order of wave {waveId} needs another {barcode}',
    zh: '波次 {waveId} 没有订单还需要 {barcode}',
  },
  PKL_LOCATION_UNKNOWN: { http: 404, en: 'Unknown location {location}', zh: '未知货位 {location}' },
  PKL_REPLENISH_UNKNOWN: { http: 404, en: 'Unknown replenishment request {requestId}', zh: '未知补货请求 {requestId}' },
  PKL_REPLENISH_NO_RESERVE: {
    http: 409,
    en: 'No reserve location holds {sku} to replenish {location}',
    zh: '没有存储货位有 {sku} 可补到 {location}',
  },
  PKL_REPLENISH_STATE: {
    http: 409,
    en: 'Replenishment {requestId} is {replenishState}',
    zh: '补货请求 {requestId} 当前为 {replenishState}',
  },

  // ---- API token scope (docs/http.md "Tokens") ----------------------------------------
  // A station token (packline token add --station) acts only for its own station and reads
  // only the personal data of orders that are or were there.
  PKL_TOKEN_STATION_SCOPE: {
    http: 403,
    en: 'This token is limited to station {tokenStation}: {reason}',
    zh: '该令牌仅限工位 {tokenStation}：{reason}',
  },
  // ---- courier handover, carrier holds, emergency shutdown (docs/handover.md) ------------
  PKL_HANDOVER_MANIFEST_UNKNOWN: {
    http: 404,
    en: 'Unknown handover manifest {manifestId}',
    zh: '交接单 {manifestId} 不存在',
  },
  PKL_HANDOVER_MANIFEST_CLOSED: {
    http: 409,
    en: 'Handover manifest {manifestId} is already closed',
    zh: '交接单 {manifestId} 已关闭',
  },
  PKL_HANDOVER_PARCEL_UNKNOWN: {
    http: 404,
    en: 'No parcel with code {code}',
    zh: '找不到条码为 {code} 的包裹',
  },
  PKL_HANDOVER_NOT_SHIPPED: {
    http: 409,
    en: 'Order {orderId} has not shipped here: not for the courier',
    zh: '订单 {orderId} 未在本仓发货，不能交给快递',
  },
  PKL_HANDOVER_WRONG_CARRIER: {
    http: 409,
    en: 'Parcel {waybill} is for {carrier}, not {manifestCarrier}',
    zh: '包裹 {waybill} 属于 {carrier}，不是 {manifestCarrier}',
  },
  PKL_HANDOVER_INTERCEPTED: {
    http: 409,
    en: 'Order {orderId} was intercepted after shipping: pull parcel {waybill}, do not hand it over',
    zh: '订单 {orderId} 发货后被拦截：请取出包裹 {waybill}，不要交给快递',
  },
  PKL_HANDOVER_ALREADY: {
    http: 409,
    en: 'Parcel {waybill} is already on handover manifest {manifestId}',
    zh: '包裹 {waybill} 已在交接单 {manifestId} 中',
  },
  PKL_CARRIER_HELD: {
    http: 409,
    en: 'Carrier {carrier} is on hold ({reason}): no labels until it is released or the order is switched',
    zh: '快递 {carrier} 已暂停（{reason}）：解除暂停或改派前不打印面单',
  },
  PKL_CARRIER_NOT_HELD: {
    http: 409,
    en: 'Carrier {carrier} is not on hold',
    zh: '快递 {carrier} 未暂停',
  },
  PKL_SWITCH_NO_WAYBILL: {
    http: 409,
    en: 'No waybill of {carrier} left for order {orderId}: add numbers to the pool or wait for the cloud',
    zh: '{carrier} 没有可用面单号给订单 {orderId}：请补充单号池或等待云端下发',
  },
  PKL_SHUTTING_DOWN: {
    http: 503,
    en: 'The gateway is shutting down ({reason}): no new parcels',
    zh: '网关正在关机（{reason}）：暂停接收新包裹',
  },

  // ---- peak packing modes: batches, post-print, pre-pack (gateway/src/batches/) -------
  PKL_BATCH_NOT_FOUND: {
    http: 404,
    en: 'No batch {batchId}',
    zh: '没有波次 {batchId}',
  },
  PKL_BATCH_STATE: {
    http: 409,
    en: 'Batch {batchId} is {batchState}: not allowed now',
    zh: '波次 {batchId} 当前状态为 {batchState}，不能执行此操作',
  },
  PKL_BATCH_NOT_SAME_COMPOSITION: {
    http: 409,
    en: 'Batch {batchId} mixes compositions: post-print needs one composition per batch',
    zh: '波次 {batchId} 含不同货品组合，后置打单要求同一组合',
  },
  PKL_BATCH_ORDER_TAKEN: {
    http: 409,
    en: 'Order {orderId} is already in an open batch',
    zh: '订单 {orderId} 已在未完成的波次中',
  },
  PKL_BATCH_EMPTY: {
    http: 400,
    en: 'No order to batch',
    zh: '没有可组波次的订单',
  },
  PKL_BATCH_STATION_BUSY: {
    http: 409,
    en: 'Station {stationId} already works batch {batchId}',
    zh: '工位 {stationId} 正在处理波次 {batchId}',
  },
  PKL_BATCH_NO_ORDER: {
    http: 409,
    en: 'No order left in batch {batchId} for item {barcode}',
    zh: '波次 {batchId} 中已没有商品 {barcode} 的待发订单',
  },
  PKL_PREPACK_USED: {
    http: 409,
    en: 'Pre-pack unit {barcode} was already shipped with order {orderId}',
    zh: '预包件 {barcode} 已随订单 {orderId} 发出',
  },
  PKL_ORDER_NOT_PICKED: {
    http: 409,
    en: 'Order {orderId} is not picked yet: wave {waveId}, slot {slot} ({reason})',
    zh: '订单 {orderId} 尚未拣货完成：波次 {waveId}，格口 {slot}（{reason}）',
  },
  // ---- presale: pack ahead, stage, release on payment (docs/packing-modes.md "Presale") ----
  PKL_PRESALE_STAGED: {
    http: 409,
    en: 'Order {orderId} is a presale order not paid yet: parcel staged as {stagingId}, put it on the presale shelf',
    zh: '订单 {orderId} 为未付尾款的预售订单：包裹已暂存为 {stagingId}，请放到预售货架',
  },
  PKL_PRESALE_UNPAID: {
    http: 409,
    en: 'Staged parcel {stagingId} (order {orderId}) is not paid yet: leave it on the presale shelf',
    zh: '暂存包裹 {stagingId}（订单 {orderId}）尚未付尾款：请留在预售货架',
  },
  PKL_PRESALE_UNPACK: {
    http: 409,
    en: 'Staged parcel {stagingId}: order {orderId} was stopped before payment ({reason}): unpack it',
    zh: '暂存包裹 {stagingId}：订单 {orderId} 在付款前已被拦截（{reason}）：请拆包',
  },
  PKL_PRESALE_ALREADY_STAGED: {
    http: 409,
    en: 'Order {orderId} is already staged as {stagingId}: scan that staging label, set this parcel aside',
    zh: '订单 {orderId} 已暂存为 {stagingId}：请扫描该暂存标签，本包裹另行处理',
  },
  PKL_PRESALE_RELEASED: {
    http: 409,
    en: 'Staged parcel {stagingId} was released already (shipment {shipmentId})',
    zh: '暂存包裹 {stagingId} 已放行（发货单 {shipmentId}）',
  },
  PKL_PRESALE_UNPACKED: {
    http: 409,
    en: 'Staged parcel {stagingId} was unpacked: it cannot ship',
    zh: '暂存包裹 {stagingId} 已拆包，不能发货',
  },
  PKL_PRESALE_UNKNOWN: {
    http: 404,
    en: 'No staged parcel {stagingId}',
    zh: '没有暂存包裹 {stagingId}',
  },
  PKL_PRESALE_NOT_UNPACKABLE: {
    http: 409,
    en: 'Staged parcel {stagingId} is not on the unpack list (order {orderId} may still ship)',
    zh: '暂存包裹 {stagingId} 不在拆包清单上（订单 {orderId} 仍可发货）',
  },

  // ---- batch pre-print and the recall list (gateway/src/batches/, gateway/src/recalls/) ----
  PKL_BATCH_NOT_PREPRINT: {
    http: 409,
    en: 'Batch {batchId} is not a pre-print batch (mode {mode}): its labels print when scanned',
    zh: '波次 {batchId} 不是预打印波次（模式 {mode}）：扫描时才打印面单',
  },
  PKL_RECALL_UNKNOWN: {
    http: 404,
    en: 'Label {code} is not on the recall list',
    zh: '面单 {code} 不在待召回清单中',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export type ErrorDetails = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** A refusal: the one shape a decision, a decoder or a commit answers with when it says no. */
export interface Refusal {
  ok: false;
  code: ErrorCode;
  details: ErrorDetails;
}

/** The answer of anything that may refuse: `{ ok: true, …T }` or a {@link Refusal}. */
export type Result<T extends object = object> = ({ ok: true } & T) | Refusal;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/**
 * Chinese for the English words callers put in the `{action}` and `{state}` details. The
 * details on the wire keep the English value (a stable machine field); the Chinese message
 * reads fully Chinese (errors-zh.test.ts checks every template, every entry here, and that every
 * literal action passed in the code has an entry).
 */
export const DETAIL_ZH: Readonly<Record<string, string>> = {
  // `{action}`: what a token, a device or a shipment's state does not allow.
  'call this endpoint': '调用此接口',
  read: '读取数据',
  'post scans': '提交扫描',
  'use admin endpoints': '使用管理接口',
  'read the shipment feed (admin token)': '读取发货记录流（需管理员令牌）',
  reprint: '补打面单',
  'ship without label': '免面单发货',
  'supervisor override': '主管放行',
  publish: '发布到',
  subscribe: '订阅',
  // `{state}`: shipment states (gateway/src/storage/types.ts SHIPMENT_STATES).
  verifying: '验货中',
  weighing: '称重中',
  held: '暂扣',
  intercepted: '已拦截',
  labelling: '打印面单中',
  printed: '面单已打印',
  shipped: '已发货',
  abandoned: '已作废',
};

/** Detail keys whose English values {@link DETAIL_ZH} translates in the Chinese message. */
const TRANSLATED_DETAILS = new Set(['action', 'state']);

function fill(template: string, details: ErrorDetails | undefined, zh = false): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const v = details?.[key];
    if (v === undefined || v === null) return whole;
    const text = String(v);
    return zh && TRANSLATED_DETAILS.has(key) ? (DETAIL_ZH[text] ?? text) : text;
  });
}

/** The English and Chinese messages for a code, with `{placeholders}` filled. */
export function describeError(code: ErrorCode, details?: ErrorDetails): { en: string; zh: string } {
  const spec: ErrorSpec = ERRORS[code];
  return { en: fill(spec.en, details), zh: fill(spec.zh, details, true) };
}

/** The wire form of an error, as published on `dev/{id}/err` and returned by the API. */
export interface WireError {
  code: ErrorCode;
  message: string;
  message_zh: string;
  details?: ErrorDetails;
}

/**
 * The only error class Packline throws on purpose. Boundaries (HTTP error handler, MQTT
 * ingress, CLI) turn it into a {@link WireError}; anything else is a bug and is logged.
 */
export class PacklineError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;
  readonly messageZh: string;
  readonly statusCode: number;

  constructor(code: ErrorCode, details?: ErrorDetails, options?: { cause?: unknown }) {
    const { en, zh } = describeError(code, details);
    super(en, options);
    this.name = 'PacklineError';
    this.code = code;
    this.details = details;
    this.messageZh = zh;
    this.statusCode = ERRORS[code].http;
  }

  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message, message_zh: this.messageZh };
    if (this.details !== undefined) wire.details = this.details;
    return wire;
  }
}

export function toWireError(code: ErrorCode, details?: ErrorDetails): WireError {
  return new PacklineError(code, details).toWire();
}
