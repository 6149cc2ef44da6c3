/**
 * DWS telegrams (device-drivers/src/conveyor/telegram.ts) for every DWS definition, both
 * directions: the parcel decoder (line → gateway) and the reply decoder, fed random bytes and
 * mutated valid telegrams split at random points. A parsed parcel must become a `parcel`
 * payload the contract accepts (what the DWS driver publishes); anything else a coded error.
 * Every tenth input is a random template for the codec's constructor (config): it must build
 * or throw PKL_CONFIG_INVALID.
 */
import fc from 'fast-check';
import { isErrorCode } from '../../../../contracts/errors.js';
import { decodeEvent } from '../../../../contracts/validate.js';
import { DWS_DEFINITIONS } from '../../../../device-drivers/src/conveyor/definitions.js';
import { TelegramCodec, type TelegramTemplate } from '../../../../device-drivers/src/conveyor/telegram.js';
import { byteStream, jsonish, Rng } from '../gen.js';
import { codeOfThrown, describeThrown, type FuzzTarget, type Tally } from '../harness.js';

const BUFFER_BOUND = 70_000;

function randomParcel(rng: Rng) {
  const p: { seq: number; barcode: string | null; grams?: number; lengthMm?: number; widthMm?: number; heightMm?: number } = {
    seq: rng.chance(0.05) ? rng.pick([0, 4_294_967_295, 9999, 999_999]) : rng.int(10_000),
    barcode: rng.chance(0.1) ? null : `${rng.pick(['PK', 'SF', '7312', ''])}${rng.int(1e9)}`,
  };
  if (rng.chance(0.8)) p.grams = rng.chance(0.1) ? rng.range(-600_000, 600_000) : rng.int(30_000);
  if (rng.chance(0.8)) p.lengthMm = rng.int(1200);
  if (rng.chance(0.8)) p.widthMm = rng.int(800);
  if (rng.chance(0.8)) p.heightMm = rng.int(800);
  return p;
}

const fieldArb = fc.oneof(
  fc.record({ field: fc.constant('literal'), text: fc.oneof(fc.string({ maxLength: 5 }), jsonish) }),
  fc.record(
    {
      field: fc.constantFrom('seq', 'barcode', 'weight', 'length', 'width', 'height', 'chute', 'ignore', 'bogus'),
      width: fc.oneof(fc.integer({ min: -2, max: 140 }), jsonish),
      unit: fc.constantFrom('g', 'kg', 'mm', 'cm', 'lb', undefined),
      decimals: fc.oneof(fc.integer({ min: -1, max: 8 }), fc.constant(undefined)),
    },
    { requiredKeys: ['field'] },
  ),
);
const templateArb = fc.record(
  {
    framing: fc.constantFrom('stx-etx', 'crlf', 'lf', 'etx', 7),
    separator: fc.oneof(fc.constantFrom(';', ',', '|', '\t', '', '\x02', '\r\n'), jsonish),
    parcel: fc.oneof(fc.array(fieldArb, { maxLength: 8 }), jsonish),
    reply: fc.oneof(fc.array(fieldArb, { maxLength: 4 }), jsonish),
    noRead: fc.oneof(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), jsonish),
    noValue: fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
    keepalive: fc.string({ maxLength: 4 }),
    maxLength: fc.oneof(fc.integer({ min: -1, max: 70_000 }), jsonish),
  },
  { requiredKeys: [] },
);

export const dwsTelegramsTarget: FuzzTarget = {
  name: 'dws-telegrams',
  description: 'DWS telegram decoders of every DWS definition (parcel and reply direction) + random templates → parcel payload contract',
  batchSize: 10_000,
  async open() {
    const codecs = DWS_DEFINITIONS.map((d) => ({ id: d.id, codec: new TelegramCodec(d.telegram) }));
    return {
      async batch(seed: number, count: number, tally: Tally) {
        const rng = new Rng(seed);
        const templates = fc.sample(templateArb, { seed, numRuns: Math.ceil(count / 10) + 1 });
        for (let i = 0; i < count; i++) {
          if (i % 10 === 9) {
            const t = templates[Math.floor(i / 10)];
            try {
              const codec = new TelegramCodec(t as unknown as TelegramTemplate);
              // A template that builds must also decode without throwing.
              const d = codec.createDecoder('parcel');
              d.push(rng.bytes(rng.range(0, 64)));
              tally.accept();
            } catch (err) {
              const code = codeOfThrown(err);
              if (code !== null) tally.reject(code);
              else tally.fail(seed, i, { template: t }, `template threw ${describeThrown(err)}`);
            }
            continue;
          }
          const { id, codec } = codecs[i % codecs.length] as (typeof codecs)[number];
          const direction = rng.chance(0.8) ? 'parcel' : 'reply';
          const valid = (): Uint8Array => {
            try {
              if (direction === 'parcel') return codec.encodeParcel(randomParcel(rng));
              return codec.encodeReply({ seq: rng.int(10_000), chute: rng.pick(['C01', '999', 'EXC', 'DEFAULT', '']) });
            } catch {
              return rng.bytes(rng.range(0, 20)); // a value the template cannot carry
            }
          };
          const chunks = byteStream(rng, valid);
          let problem: string | null = null;
          let errorCode: string | null = null;
          try {
            const decoder = codec.createDecoder(direction);
            for (const c of chunks) {
              for (const r of decoder.push(c)) {
                if (!r.ok) {
                  if (!isErrorCode(r.code)) problem ??= `code ${String(r.code)} outside the catalogue`;
                  errorCode ??= r.code;
                  continue;
                }
                if (direction !== 'parcel') continue;
                const t = r.value as { seq: number; barcode: string | null; grams?: number; lengthMm?: number; widthMm?: number; heightMm?: number };
                const event: Record<string, unknown> = { msg_id: `line-1-${t.seq}-0123456789`, seq: t.seq, barcode: t.barcode, ts: 0 };
                if (t.grams !== undefined) event.grams = t.grams;
                if (t.lengthMm !== undefined) event.length_mm = t.lengthMm;
                if (t.widthMm !== undefined) event.width_mm = t.widthMm;
                if (t.heightMm !== undefined) event.height_mm = t.heightMm;
                const checked = decodeEvent('parcel', JSON.stringify(event));
                if (!checked.ok)
                  problem ??= `parsed telegram fails the parcel contract: ${checked.code} ${JSON.stringify(checked.details)} for ${JSON.stringify(event)}`;
              }
              if (decoder.bufferedBytes > BUFFER_BOUND) problem ??= `buffer grew to ${decoder.bufferedBytes}`;
            }
          } catch (err) {
            problem = `threw ${describeThrown(err)}`;
          }
          if (problem !== null) tally.fail(seed, i, { definition: id, direction, chunks }, problem);
          else if (errorCode !== null) tally.reject(errorCode);
          else tally.accept();
        }
      },
      async close() {},
    };
  },
};
