/**
 * How a sync request reaches the cloud. The outbox pump and the inbound feed speak in
 * requests and answers (contracts/sync.ts); a transport carries them: HTTPS to the cloud
 * order system (the default, http-transport.ts) or an MQTT bridge to a cloud broker for
 * fleets (mqtt-bridge-transport.ts). Signing happens above the transport, so a request is
 * verified end to end whatever carried it.
 */

export interface SyncRequest {
  method: 'GET' | 'POST';
  /** Path with query, e.g. `/sync/v1/gateways/gw-01/changes?after=12&limit=500`. */
  path: string;
  /** Lower-case header names (contracts/sync.ts SYNC_HEADERS, content-type, content-encoding). */
  headers: Record<string, string>;
  /** Exact wire bytes (gzip for batches); null for GET. */
  body: Uint8Array | null;
}

export interface SyncResponse {
  status: number;
  /** Parsed JSON body, or the raw text when it was not JSON, or null when empty. */
  body: unknown;
}

/** A transport failed to get any answer (refused, reset, timed out, broker down). */
export class SyncTransportError extends Error {
  constructor(
    message: string,
    /** `timeout`, `refused`, `reset`, `unreachable`, `closed` or `other`. */
    readonly kind: 'timeout' | 'refused' | 'reset' | 'unreachable' | 'closed' | 'other',
  ) {
    super(message);
    this.name = 'SyncTransportError';
  }
}

export interface SyncTransport {
  /** Short name for logs and the link state (`https`, `mqtt`). */
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Sends one request and resolves with the cloud's answer, whatever its status; rejects
   * with {@link SyncTransportError} when no answer came within `timeoutMs`.
   */
  request(req: SyncRequest, timeoutMs: number): Promise<SyncResponse>;
}
