/**
 * Fault modes of the reference cloud: the ways a real cloud order system fails the gateway,
 * each one something the sync protocol (contracts/sync.ts) must survive without losing or
 * duplicating an event. Decisions come from a seeded PRNG so a test replays the same faults.
 *
 * | mode              | what the gateway sees                         | what the cloud stored        |
 * |-------------------|-----------------------------------------------|------------------------------|
 * | down              | ECONNREFUSED (listener closed, sockets gone)  | nothing                      |
 * | errorShare        | HTTP 503                                      | nothing                      |
 * | latencyMs/jitter  | a slow answer                                 | as normal                    |
 * | hang              | no answer at all: its own timeout fires       | nothing                      |
 * | resetShare        | connection reset before any answer            | nothing                      |
 * | lostAckShare      | connection reset before any answer            | the whole batch (resend = dup)|
 * | duplicateAckShare | the previous answer replayed (a stale ack)    | the whole batch              |
 * | slowDrain         | an ack covering only the first N new events   | those N events               |
 * | rejectSubjects/Share | the event in `rejected` (code TEST_REJECTED) | the event, as rejected     |
 * | extraAnswerFields | answers with fields the contract does not name | as normal                    |
 * | unreadableAnswers | 200 answers that do not match the contract    | as normal                    |
 *
 * `defects` are not faults but protocol bugs, for the conformance kit's own tests: a cloud
 * with one of them must fail `packline sync conformance` with the matching finding.
 */
import { EventEmitter } from 'node:events';
import { type Static, Type } from '@sinclair/typebox';
import { Prng } from '../../lib/prng.js';

const Share = Type.Number({ minimum: 0, maximum: 1 });

/** Deliberate protocol bugs of the reference cloud, each one a finding of the conformance kit. */
export const CLOUD_DEFECTS = [
  /** Accepts a request whose signature does not verify. */
  'accepts_bad_signature',
  /** Stores a batch that starts above high-water + 1 and acks its last seq. */
  'acks_across_gaps',
  /** Stores and acks a batch whose seqs are not contiguous. */
  'accepts_non_contiguous',
  /** Does not repeat a rejection when the rejected event is redelivered. */
  'forgets_rejections',
  /** Answers a redelivered batch without `duplicate: true`. */
  'unflagged_duplicates',
  /** Answers an empty change page with an empty next_cursor instead of the request's. */
  'empty_page_loses_cursor',
  /** Ignores the `limit` of a change-feed request. */
  'ignores_change_limit',
  /** Answers a retry in the old form (acked_seq only, no `accepted`). */
  'retry_without_accepted',
] as const;
export type CloudDefect = (typeof CLOUD_DEFECTS)[number];

/** The settings, also the body of `PUT /admin/faults` (every member optional there). */
export const FaultSettings = Type.Object(
  {
    /** Refuse connections: the listener is closed and every open socket destroyed. */
    down: Type.Boolean(),
    /** With `down`: come back up on its own after this long (the admin API is down too). */
    downForMs: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    /** Share of sync requests answered 503 without storing anything. */
    errorShare: Share,
    /** Added before a sync request is handled. */
    latencyMs: Type.Integer({ minimum: 0 }),
    /** Uniform extra delay in [0, jitterMs]. */
    jitterMs: Type.Integer({ minimum: 0 }),
    /** Never answer a sync request (nothing stored); the socket closes only at stop(). */
    hang: Type.Boolean(),
    /** Share of sync requests whose connection is destroyed before anything is stored. */
    resetShare: Share,
    /** Share of batches stored and committed, then the connection destroyed instead of the ack. */
    lostAckShare: Share,
    /** Share of batches stored, then answered with this gateway's previous answer (stale ack). */
    duplicateAckShare: Share,
    /** Store at most this many new events of each batch and ack up to there. */
    slowDrain: Type.Union([Type.Object({ maxEventsPerBatch: Type.Integer({ minimum: 1 }) }), Type.Null()]),
    /** Events whose subject matches this regular expression are rejected (TEST_REJECTED). */
    rejectSubjects: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
    /** Share of events rejected at random (TEST_REJECTED). */
    rejectShare: Share,
    /** Every sync answer gains fields the contract does not name (a newer cloud). */
    extraAnswerFields: Type.Boolean(),
    /** Batch, retry and change-page answers are 200 with a body that is not the contract's. */
    unreadableAnswers: Type.Boolean(),
    /** Protocol bugs (see {@link CLOUD_DEFECTS}); the conformance kit must find each one. */
    defects: Type.Array(Type.Union(CLOUD_DEFECTS.map((d) => Type.Literal(d)))),
  },
  { additionalProperties: false },
);
export type FaultSettings = Static<typeof FaultSettings>;
export const FaultPatch = Type.Partial(FaultSettings);
export type FaultPatch = Static<typeof FaultPatch>;

export const NO_FAULTS: Readonly<FaultSettings> = Object.freeze({
  down: false,
  downForMs: null,
  errorShare: 0,
  latencyMs: 0,
  jitterMs: 0,
  hang: false,
  resetShare: 0,
  lostAckShare: 0,
  duplicateAckShare: 0,
  slowDrain: null,
  rejectSubjects: null,
  rejectShare: 0,
  extraAnswerFields: false,
  unreadableAnswers: false,
  defects: [],
});

/** What to do with one sync request before it is handled. */
export type RequestFault = 'hang' | 'error' | 'reset' | null;
/** What to do with the answer of a batch once it is stored. */
export type AnswerFault = 'lost_ack' | 'duplicate_ack' | null;

export interface FaultCounters {
  errors: number;
  hangs: number;
  resets: number;
  lostAcks: number;
  duplicateAcks: number;
  slowDrained: number;
  rejected: number;
}

export interface FaultModeEvents {
  /** `down` changed (the cloud closes or reopens its listener). */
  down: [down: boolean];
}

export class FaultModes extends EventEmitter<FaultModeEvents> {
  private settings: FaultSettings = { ...NO_FAULTS };
  private rejectRe: RegExp | null = null;
  private rng: Prng;
  private upTimer: NodeJS.Timeout | null = null;
  readonly counters: FaultCounters = { errors: 0, hangs: 0, resets: 0, lostAcks: 0, duplicateAcks: 0, slowDrained: 0, rejected: 0 };

  constructor(private readonly seed = 1) {
    super();
    this.rng = new Prng(seed);
  }

  get current(): Readonly<FaultSettings> {
    return { ...this.settings };
  }

  /** Merges `patch` into the current settings. A bad regular expression throws (nothing changes). */
  set(patch: FaultPatch): void {
    const next: FaultSettings = { ...this.settings, ...patch };
    const re = next.rejectSubjects === null ? null : new RegExp(next.rejectSubjects);
    const wasDown = this.settings.down;
    this.settings = next;
    this.rejectRe = re;
    if (this.upTimer !== null && (!next.down || patch.downForMs !== undefined || patch.down !== undefined)) {
      clearTimeout(this.upTimer);
      this.upTimer = null;
    }
    if (next.down && next.downForMs !== null && this.upTimer === null) {
      this.upTimer = setTimeout(() => {
        this.upTimer = null;
        this.set({ down: false, downForMs: null });
      }, next.downForMs);
    }
    if (wasDown !== next.down) this.emit('down', next.down);
  }

  /** Replaces every setting (what `PUT /admin/faults` does): unnamed modes are cleared. */
  replace(patch: FaultPatch): void {
    this.set({ ...NO_FAULTS, ...patch });
  }

  /** Clears every fault and restarts the PRNG, so a test phase replays from its seed. */
  clear(): void {
    this.replace({});
    this.rng = new Prng(this.seed);
  }

  dispose(): void {
    if (this.upTimer !== null) clearTimeout(this.upTimer);
    this.upTimer = null;
  }

  /** Delay before handling a sync request (latency plus jitter). */
  delayMs(): number {
    const { latencyMs, jitterMs } = this.settings;
    return latencyMs + (jitterMs > 0 ? this.rng.int(0, jitterMs) : 0);
  }

  /** Rolled once per sync request, before anything is stored. */
  requestFault(): RequestFault {
    const s = this.settings;
    if (s.hang) return this.count('hangs', 'hang');
    if (s.errorShare > 0 && this.rng.chance(s.errorShare)) return this.count('errors', 'error');
    if (s.resetShare > 0 && this.rng.chance(s.resetShare)) return this.count('resets', 'reset');
    return null;
  }

  /** Rolled once per stored batch (or retry), after the commit. */
  answerFault(allowDuplicate: boolean): AnswerFault {
    const s = this.settings;
    if (s.lostAckShare > 0 && this.rng.chance(s.lostAckShare)) return this.count('lostAcks', 'lost_ack');
    if (allowDuplicate && s.duplicateAckShare > 0 && this.rng.chance(s.duplicateAckShare)) {
      return this.count('duplicateAcks', 'duplicate_ack');
    }
    return null;
  }

  /** Largest number of new events a batch may store now (Infinity without slowDrain). */
  maxNewEvents(): number {
    return this.settings.slowDrain?.maxEventsPerBatch ?? Number.POSITIVE_INFINITY;
  }

  noteSlowDrain(): void {
    this.counters.slowDrained += 1;
  }

  /** Whether the test hook rejects this event (subject pattern, or the random share). */
  rejectsEvent(subject: string): boolean {
    if (this.rejectRe?.test(subject)) return this.count('rejected', true);
    if (this.settings.rejectShare > 0 && this.rng.chance(this.settings.rejectShare)) return this.count('rejected', true);
    return false;
  }

  has(defect: CloudDefect): boolean {
    return this.settings.defects.includes(defect);
  }

  private count<T>(key: keyof FaultCounters, value: T): T {
    this.counters[key] += 1;
    return value;
  }
}
