/**
 * Shared types of the scale protocol modules. Everything here is data or a pure function:
 * drivers (I/O, timers) and simulators build on top and import the same protocol modules.
 */
import type { ErrorCode, ErrorDetails } from '../../../contracts/errors.js';

/** A weight reading, converted to grams. */
export interface WeightFrame {
  readonly type: 'weight';
  readonly grams: number;
  readonly stable: boolean;
  readonly overload?: boolean;
  readonly underload?: boolean;
  /** Over capacity *or* under zero; the protocol does not say which (Toledo continuous SWB bit2, Aclas `F`). */
  readonly outOfRange?: boolean;
  /** The value is net (a tare is active). */
  readonly net?: boolean;
  /** Tare in grams, where the frame carries it (Toledo continuous). */
  readonly tareGrams?: number;
  /** The frame bytes, printable ASCII as is and other bytes as `\xNN`. */
  readonly raw: string;
}

/** A state report without a usable weight (in motion, over capacity, fault …). */
export interface StatusFrame {
  readonly type: 'status';
  readonly stable: boolean;
  readonly overload?: boolean;
  readonly underload?: boolean;
  readonly outOfRange?: boolean;
  readonly net?: boolean;
  /** At centre of zero. */
  readonly zero?: boolean;
  /** The device reports a fault that needs a person (calibration, re-zero, hardware). */
  readonly fault?: string;
  readonly raw: string;
}

/**
 * The answer to a command that is not a weight reading: MT-SICS `Z A`, `T S 100.00 g`,
 * `TA A …`, `S I`/`S +`/`S -`; Aclas ACK to ENQ; Toledo 8217 echo `STX E CR`.
 */
export interface ReplyFrame {
  readonly type: 'reply';
  /** The command answered, as spelt by the protocol (`Z`, `T`, `TA`, `S`, `I4`, `ENQ`, `E`). */
  readonly command: string;
  /** done = executed; more = further lines follow; busy = not executable now; overload/underload = range exceeded. */
  readonly status: 'done' | 'more' | 'busy' | 'overload' | 'underload';
  /** Value carried by the reply (tare weight), in grams. */
  readonly grams?: number;
  /** Remaining reply text (MT-SICS `I4 A "0123456789"` → `"0123456789"`). */
  readonly data?: string;
  readonly raw: string;
}

/** The device refused a command as a whole (MT-SICS `ES`, `ET`, `EL`). */
export interface DeviceErrorFrame {
  readonly type: 'device-error';
  readonly reason: 'syntax' | 'transmission' | 'logical';
  readonly raw: string;
}

/** Bytes that could not be decoded; `code`/`detail` feed `toWireError(code, detail)` directly. */
export interface ErrorFrame {
  readonly type: 'error';
  readonly code: ErrorCode;
  readonly detail: ErrorDetails;
  readonly raw: string;
}

export type ScaleFrame = WeightFrame | StatusFrame | ReplyFrame | DeviceErrorFrame | ErrorFrame;

/** Incremental decoder: buffers partial frames, resynchronises after garbage, never throws. */
export interface ScaleDecoder {
  push(chunk: Uint8Array): ScaleFrame[];
  /** Bytes held for an incomplete frame (bounded per protocol). */
  readonly bufferedBytes: number;
  /** Drop any partial frame (after reopening the port). */
  reset(): void;
  /**
   * The link says a message ended here (a HID read is one whole report) or went idle: bytes of
   * a frame still held are dropped with an error instead of being glued to the next frame.
   * Formats with a sync byte or terminator need not implement it.
   */
  flush?(): ScaleFrame[];
}

/** Protocol-neutral commands a driver may send; each protocol lists the ones it has. */
export type ScaleCommand =
  /** Request a stable weight (MT-SICS `S`, Toledo 8217 `W`, Aclas `DC1`). */
  | 'weigh'
  /** Request the current weight immediately, stable or not (MT-SICS `SI`). */
  | 'weighNow'
  | 'zero'
  | 'tare'
  | 'clearTare'
  /** Handshake before a poll (Aclas/CAS `ENQ`, answered by `ACK`). */
  | 'enquire';

/** Options a definition passes to `createDecoder`; validated by each protocol. */
export type ProtocolOptions = Readonly<Record<string, unknown>>;

export interface ScaleProtocol {
  /** Protocol id; equals the folder name under device-drivers/src/scale/. */
  readonly id: string;
  readonly commands: readonly ScaleCommand[];
  /** Throws `PacklineError('PKL_CONFIG_INVALID')` on bad options. */
  createDecoder(options?: ProtocolOptions): ScaleDecoder;
  /**
   * Protocol options the opened link adds to the definition's (HID: the command report layout
   * read from the device's report descriptor, so a command goes where this device expects it).
   */
  linkOptions?(link: { readonly reportDescriptor: Uint8Array | null }): ProtocolOptions;
  /** Throws `PacklineError('PKL_SCALE_COMMAND_UNSUPPORTED')` for a command not in `commands`. */
  encode(command: ScaleCommand, options?: ProtocolOptions): Uint8Array;
}

export type Parity = 'none' | 'even' | 'odd';

export interface SerialLineSettings {
  readonly baudRate: number;
  readonly dataBits: 7 | 8;
  readonly parity: Parity;
  readonly stopBits: 1 | 2;
}

export type ScaleCapability = 'weight' | 'zero' | 'tare' | 'poll';

/** A scale model as data: adding a model means adding one of these. */
export interface ScaleDefinition {
  /** Unique id; equals the folder name under device-drivers/src/scale/models/. */
  readonly id: string;
  readonly vendor: string;
  readonly model: string;
  readonly description: string;
  /** Id of a protocol in SCALE_PROTOCOLS. */
  readonly protocol: string;
  readonly transport: 'serial' | 'tcp' | 'hid';
  /** Factory line settings (serial and serial-over-TCP devices). */
  readonly serial?: SerialLineSettings;
  readonly match?: { readonly usb?: readonly { readonly vendorId: number; readonly productId: number }[] };
  /** Higher wins when several definitions match the same device. */
  readonly priority: number;
  readonly capabilities: readonly ScaleCapability[];
  /** Passed to `createDecoder` / `encode` of the protocol. */
  readonly options?: ProtocolOptions;
  /** Facts in this definition that were not checked against a device or manual. */
  readonly unverified?: readonly string[];
}
