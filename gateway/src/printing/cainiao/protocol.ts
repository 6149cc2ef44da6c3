/**
 * The Cainiao print-component protocol (菜鸟打印组件, "云打印交互协议"), as a pure codec: a
 * WebSocket text frame in, a typed request or a coded error out; typed answers in, JSON out.
 * No I/O. endpoint.ts puts it on a socket.
 *
 * Sources (docs/printing-cainiao.md summarises them):
 * - [CN] official document, mirrored at open.alitrip.com/docs/doc.htm?articleId=107014&docType=1&treeId=409
 *   (also support-cnkuaidi.taobao.com docId=107014; an older copy is open.taobao.com articleId=106976):
 *   request header `{cmd, requestID, version:"1.0"}`, all three required; response header
 *   `{cmd, requestID}` with requestID "returned unchanged so the client can match the answer";
 *   the print task `{taskID, preview, printer, previewType, firstDocumentNumber,
 *   totalDocumentCount, documents:[{documentID, contents:[…]}]}`; encrypted contents
 *   `{encryptedData:"AES:…", signature, templateURL, …}`; "use one document per task to avoid
 *   reprints" (建议 1 个 task 使用 一个 document).
 * - [HS] hnshengzhong.cn/reference/protocols.html: the getPrinters answer
 *   `{status:"success", msg:"no error", defaultPrinter, printers:[{name, status:"enable", type:"RAW"}], errorCode:0}`
 *   and getPrinterConfig `{printer:{name, needTopLogo, …, paperSize:{width, height}}}`; its
 *   example sends `requestID: 0`, a number, so numbers are accepted and echoed as sent.
 * - [EC] github.com/gavin-hao/ec-print src/interfaces.ts and src/printProvider.ts: the command
 *   list, `notifyType: ["render","print"]` (default both), `getTaskStatus {taskID: string[]}`,
 *   documentID "unique; for a standard waybill it is the waybill number", taskID "unique per task".
 * - [950] 950288.xyz/blog/2025-05-23/cn-printer-websocket (summary of [CN], updated 2024-08-02).
 *
 * Where we answer: `status` "success" | "failed", `msg`, `errorCode` 0 on success. On failure
 * the component's own numeric error codes are not documented, so `errorCode` carries the HTTP
 * status of our catalogue entry (a number, so clients that type it as an integer still parse it)
 * and `code` carries the stable `PKL_*` code; `msg` / `msg_zh` are the catalogue's messages.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type ErrorCode, type ErrorDetails, ERRORS, describeError } from '../../../../contracts/errors.js';
import { describeSchemaError } from '../../../../contracts/validate.js';

/** Commands this endpoint answers ([EC] CMD list; the set* commands are refused, see below). */
export const CAINIAO_COMMANDS = [
  'getPrinters',
  'getPrinterConfig',
  'setPrinterConfig',
  'print',
  'getTaskStatus',
  'getGlobalConfig',
  'setGlobalConfig',
  'getAgentInfo',
] as const;
export type CainiaoCommand = (typeof CAINIAO_COMMANDS)[number];

/** Documents in one task, at most. [CN] advises one; ERPs batch a page of orders (≤ 100 seen). */
export const MAX_DOCUMENTS_PER_TASK = 100;
/** Contents (standard part, custom area, …) in one document, at most. */
export const MAX_CONTENTS_PER_DOCUMENT = 8;
/** Task ids asked for in one getTaskStatus, at most. */
export const MAX_TASK_IDS_PER_QUERY = 100;

// ---- request schemas -----------------------------------------------------------------------

/** [CN] says string; [HS]'s example sends the number 0. Both are echoed exactly as sent. */
const RequestId = Type.Union([Type.String({ maxLength: 128 }), Type.Integer()]);
export type RequestId = Static<typeof RequestId>;

/** taskID / documentID: strings per [CN]; integers accepted (naive counters) and used as their decimal text. */
const WireId = Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Integer({ minimum: 0 })]);

/** Any JSON object (template data is free-form). */
const JsonObject = Type.Unsafe<Record<string, unknown>>({ type: 'object' });

/**
 * The header every request carries. `version` is required by [CN] but not checked: the only
 * version is "1.0" and refusing a page that leaves it out would gain nothing. Unknown extra
 * fields are allowed everywhere: components and clients add their own ([CN] 1.x `urls`, PDD's `ERPId`).
 */
const Header = Type.Object(
  {
    cmd: Type.String({ minLength: 1, maxLength: 64 }),
    requestID: RequestId,
    version: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: true },
);

/** One content of a document ([CN] plain and encrypted forms, [EC] Document.contents). */
export const PrintContent = Type.Object(
  {
    data: Type.Optional(JsonObject),
    templateURL: Type.Optional(Type.String({ maxLength: 2048 })),
    encryptedData: Type.Optional(Type.String()),
    signature: Type.Optional(Type.String()),
    addData: Type.Optional(JsonObject),
    customData: Type.Optional(JsonObject),
    ver: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: true },
);
export type PrintContent = Static<typeof PrintContent>;

const WireDocument = Type.Object(
  {
    documentID: WireId,
    contents: Type.Array(PrintContent, { minItems: 1, maxItems: MAX_CONTENTS_PER_DOCUMENT }),
  },
  { additionalProperties: true },
);

const WireTask = Type.Object(
  {
    taskID: WireId,
    preview: Type.Optional(Type.Boolean()),
    /** Empty or absent: the default printer ([CN]). */
    printer: Type.Optional(Type.String({ maxLength: 128 })),
    previewType: Type.Optional(Type.String({ maxLength: 16 })),
    firstDocumentNumber: Type.Optional(Type.Integer()),
    totalDocumentCount: Type.Optional(Type.Integer()),
    /** [EC]: which notifications the client wants; absent = both. */
    notifyType: Type.Optional(Type.Array(Type.Union([Type.Literal('render'), Type.Literal('print')]), { maxItems: 2 })),
    documents: Type.Array(WireDocument, { minItems: 1, maxItems: MAX_DOCUMENTS_PER_TASK }),
  },
  { additionalProperties: true },
);

const PrintRequestSchema = Type.Object({ task: WireTask }, { additionalProperties: true });
const GetPrinterConfigSchema = Type.Object({ printer: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: true });
const GetTaskStatusSchema = Type.Object(
  { taskID: Type.Union([WireId, Type.Array(WireId, { minItems: 1, maxItems: MAX_TASK_IDS_PER_QUERY })]) },
  { additionalProperties: true },
);

// ---- decoded requests ----------------------------------------------------------------------

export interface PrintDocument {
  documentID: string;
  contents: PrintContent[];
}

export interface PrintTask {
  taskID: string;
  /** The printer asked for; '' = the default printer. */
  printer: string;
  preview: boolean;
  notifyRender: boolean;
  notifyPrint: boolean;
  documents: PrintDocument[];
}

export type CainiaoRequest =
  | { cmd: 'getPrinters'; requestID: RequestId }
  | { cmd: 'getPrinterConfig'; requestID: RequestId; printer: string }
  | { cmd: 'print'; requestID: RequestId; task: PrintTask }
  | { cmd: 'getTaskStatus'; requestID: RequestId; taskIDs: string[] }
  | { cmd: 'getGlobalConfig'; requestID: RequestId }
  | { cmd: 'getAgentInfo'; requestID: RequestId };

/** Why a frame was refused; `cmd` / `requestID` are echoed when they could be read. */
export interface FrameError {
  cmd: string | null;
  requestID: RequestId | null;
  code: ErrorCode;
  details: ErrorDetails;
}

export type DecodeResult = { ok: true; request: CainiaoRequest } | { ok: false; error: FrameError };

const ajv = new Ajv({ allErrors: false, strict: true, coerceTypes: false, useDefaults: false });
function compile<T extends TSchema>(schema: T): ValidateFunction<Static<T>> {
  return ajv.compile<Static<T>>(schema);
}
const validateHeader = compile(Header);
const validatePrint = compile(PrintRequestSchema);
const validateGetPrinterConfig = compile(GetPrinterConfigSchema);
const validateGetTaskStatus = compile(GetTaskStatusSchema);

/** A frame's schema error (every schema here allows extra fields, so only type and range errors occur). */
function describe(err: ErrorObject | undefined): string {
  return describeSchemaError(err, 'frame', 'does not match the protocol');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function idText(id: string | number): string {
  return typeof id === 'number' ? String(id) : id;
}

/**
 * Decodes one frame. `maxBytes` is the endpoint's frame limit (the socket's own hard limit
 * is larger, so an oversize frame is answered rather than dropped with the connection).
 */
export function decodeFrame(frame: string | Uint8Array, maxBytes: number): DecodeResult {
  const size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
  if (size > maxBytes) return fail(null, null, 'PKL_PAYLOAD_TOO_LARGE', { size, limit: maxBytes });
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof frame === 'string' ? frame : utf8.decode(frame));
  } catch {
    return fail(null, null, 'PKL_PAYLOAD_NOT_JSON', {});
  }
  if (!validateHeader(parsed)) {
    // Salvage what a client needs to match the refusal to its request.
    const o = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    const cmd = typeof o.cmd === 'string' && o.cmd.length <= 64 ? o.cmd : null;
    const rid = o.requestID;
    const requestID = (typeof rid === 'string' && rid.length <= 128) || Number.isInteger(rid) ? (rid as RequestId) : null;
    return fail(cmd, requestID, 'PKL_PAYLOAD_INVALID', { reason: describe(validateHeader.errors?.[0]) });
  }
  const { cmd, requestID } = parsed;
  const bad = (v: ValidateFunction) => fail(cmd, requestID, 'PKL_PAYLOAD_INVALID', { reason: describe(v.errors?.[0]) });
  switch (cmd) {
    case 'getPrinters':
    case 'getGlobalConfig':
    case 'getAgentInfo':
      return { ok: true, request: { cmd, requestID } };
    case 'getPrinterConfig':
      if (!validateGetPrinterConfig(parsed)) return bad(validateGetPrinterConfig);
      return { ok: true, request: { cmd, requestID, printer: parsed.printer } };
    case 'getTaskStatus': {
      if (!validateGetTaskStatus(parsed)) return bad(validateGetTaskStatus);
      const ids = Array.isArray(parsed.taskID) ? parsed.taskID : [parsed.taskID];
      return { ok: true, request: { cmd, requestID, taskIDs: [...new Set(ids.map(idText))] } };
    }
    case 'print': {
      if (!validatePrint(parsed)) return bad(validatePrint);
      const t = parsed.task;
      const documents = t.documents.map((d) => ({ documentID: idText(d.documentID), contents: d.contents }));
      const seen = new Set<string>();
      for (const d of documents) {
        if (seen.has(d.documentID)) {
          return fail(cmd, requestID, 'PKL_PAYLOAD_INVALID', { reason: `task.documents repeats documentID ${JSON.stringify(d.documentID)}` });
        }
        seen.add(d.documentID);
      }
      const notify = t.notifyType ?? ['render', 'print'];
      const task: PrintTask = {
        taskID: idText(t.taskID),
        printer: t.printer ?? '',
        preview: t.preview === true,
        notifyRender: notify.includes('render'),
        notifyPrint: notify.includes('print'),
        documents,
      };
      return { ok: true, request: { cmd, requestID, task } };
    }
    case 'setPrinterConfig':
    case 'setGlobalConfig':
      // Printers and their paper are configured on the gateway (config file), not by a web page.
      return fail(cmd, requestID, 'PKL_PAYLOAD_INVALID', { reason: `${cmd} is not supported: printers are configured on the gateway` });
    default:
      return fail(cmd, requestID, 'PKL_PAYLOAD_INVALID', { reason: `unknown cmd ${JSON.stringify(cmd)}` });
  }
}

function fail(cmd: string | null, requestID: RequestId | null, code: ErrorCode, details: ErrorDetails): DecodeResult {
  return { ok: false, error: { cmd, requestID, code, details } };
}

// ---- answers -------------------------------------------------------------------------------

export type Frame = Record<string, unknown>;

/** A successful answer: header + `status:"success"`, `msg:"no error"`, `errorCode:0` ([HS]). */
export function successFrame(cmd: string, requestID: RequestId, body: Frame = {}): Frame {
  return { cmd, requestID, status: 'success', msg: 'no error', errorCode: 0, ...body };
}

/** A refusal: `status:"failed"`, the catalogue's messages, `code` and a numeric `errorCode`. */
export function failureFrame(cmd: string | null, requestID: RequestId | null, code: ErrorCode, details: ErrorDetails = {}, body: Frame = {}): Frame {
  const { en, zh } = describeError(code, details);
  return { cmd: cmd ?? 'error', requestID, status: 'failed', msg: en, msg_zh: zh, code, errorCode: ERRORS[code].http, ...body };
}

export function errorFrame(e: FrameError): Frame {
  return failureFrame(e.cmd, e.requestID, e.code, e.details);
}

export interface PrinterEntry {
  name: string;
  online: boolean;
  model: string | null;
}

/**
 * getPrinters ([HS]): `status` is "enable" / "disable" per printer (the older [CN] copy shows
 * "disable" for an unusable printer); `type` is "RAW" because our printers take raw label
 * language. `model` is ours (the configured device model).
 */
export function printersFrame(requestID: RequestId, printers: readonly PrinterEntry[], defaultPrinter: string): Frame {
  return successFrame('getPrinters', requestID, {
    defaultPrinter,
    printers: printers.map((p) => ({ name: p.name, status: p.online ? 'enable' : 'disable', type: 'RAW', ...(p.model ? { model: p.model } : {}) })),
  });
}

export interface PaperSize {
  /** Millimetres. */
  width: number;
  height: number;
}

/** getPrinterConfig ([HS] field list): fixed values — layout and offsets are the gateway's label template's. */
export function printerConfigFrame(requestID: RequestId, name: string, paper: PaperSize): Frame {
  return successFrame('getPrinterConfig', requestID, {
    printer: {
      name,
      needTopLogo: false,
      needBottomLogo: false,
      horizontalOffset: 0,
      verticalOffset: 0,
      forceNoPageMargins: true,
      autoPageSize: false,
      orientation: 0,
      autoOrientation: false,
      paperSize: { width: paper.width, height: paper.height },
    },
  });
}

/** A document's outcome as the protocol reports it (notifyPrintResult printStatus, [CN] / docs/printing-cainiao.md). */
export interface DocumentOutcome {
  documentID: string;
  /** `pending`: sent to the printer, no answer yet (ours; the finished values are [CN]'s). */
  status: 'success' | 'failed' | 'pending';
  code: ErrorCode | null;
  details: ErrorDetails;
  /** The printer's own words (e.g. "paper out"), when it gave any. */
  reason: string | null;
}

export type TaskStatus = 'rendered' | 'printed' | 'failed';

export interface TaskOutcome {
  taskID: string;
  printer: string;
  taskStatus: TaskStatus;
  documents: readonly DocumentOutcome[];
}

function printStatus(printer: string, docs: readonly DocumentOutcome[]): Frame[] {
  return docs.map((d) => {
    const entry: Frame = { documentID: d.documentID, status: d.status, msg: '', detail: d.reason ?? '', printer };
    if (d.code !== null) {
      const { en, zh } = describeError(d.code, d.details);
      entry.msg = en;
      entry.msg_zh = zh;
      entry.code = d.code;
    }
    return entry;
  });
}

/**
 * notifyPrintResult (docs/printing-cainiao.md; [CN]): `{cmd, requestID, printer, taskID, taskStatus,
 * printStatus:[{documentID, status, msg, detail, printer}]}`. On a failed task the top level also
 * carries the first failure's `msg` / `code`, as a refusal does.
 */
export function notifyPrintResultFrame(requestID: RequestId, t: TaskOutcome): Frame {
  const frame: Frame = {
    cmd: 'notifyPrintResult',
    requestID,
    printer: t.printer,
    taskID: t.taskID,
    taskStatus: t.taskStatus,
    printStatus: printStatus(t.printer, t.documents),
  };
  const firstFailure = t.documents.find((d) => d.status === 'failed' && d.code !== null);
  if (t.taskStatus === 'failed' && firstFailure?.code) {
    const { en, zh } = describeError(firstFailure.code, firstFailure.details);
    Object.assign(frame, { status: 'failed', msg: en, msg_zh: zh, code: firstFailure.code, errorCode: ERRORS[firstFailure.code].http });
  } else {
    Object.assign(frame, { status: 'success', msg: 'no error', errorCode: 0 });
  }
  return frame;
}

/**
 * getTaskStatus: the sources above record only "printStatus per task/document"; the exact answer
 * shape of the official component is not in our sources (unverified). We answer one entry per
 * asked task: `{taskID, taskStatus, printer, detailStatus:[…the printStatus entries…]}`, and for a
 * task this gateway does not know (never sent, or forgotten: the ledger is bounded and in memory)
 * `taskStatus:"unknown"` with PKL_PRINT_JOB_UNKNOWN — never "failed", which would invite a reprint
 * of something that may have printed.
 */
export function taskStatusFrame(requestID: RequestId, asked: readonly string[], known: (taskID: string) => TaskOutcome | null): Frame {
  return successFrame('getTaskStatus', requestID, {
    printStatus: asked.map((taskID) => {
      const t = known(taskID);
      if (t === null) {
        const { en, zh } = describeError('PKL_PRINT_JOB_UNKNOWN', { jobId: taskID });
        return { taskID, taskStatus: 'unknown', code: 'PKL_PRINT_JOB_UNKNOWN', msg: en, msg_zh: zh, detailStatus: [] };
      }
      return { taskID, taskStatus: t.taskStatus, printer: t.printer, detailStatus: printStatus(t.printer, t.documents) };
    }),
  });
}

/** getAgentInfo ([EC]): "1.0.0" keeps clients on the 1.0 protocol (no notifyDocResult / notifyTaskResult). */
export function agentInfoFrame(requestID: RequestId): Frame {
  return successFrame('getAgentInfo', requestID, { version: '1.0.0', agent: 'packline' });
}

/** getGlobalConfig ([EC] setGlobalConfig fields): failures are always notified. */
export function globalConfigFrame(requestID: RequestId): Frame {
  return successFrame('getGlobalConfig', requestID, { notifyOnTaskFailure: true, ignoreFontCanNotDisplay: false });
}

export function encodeFrame(frame: Frame): string {
  return JSON.stringify(frame);
}
