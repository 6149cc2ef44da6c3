/**
 * HTTP routes of presale (docs/http.md "Presale"; docs/packing-modes.md "Presale"): the presale
 * shelf, the unpack list and marking a parcel unpacked. Registered by the composition root on
 * the app before it listens, like the handover routes. Refusals answer with their PKL_* code
 * and the catalogue's status.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PacklineError } from '../../../contracts/errors.js';
import { bearer, errorResponses } from '../http/schemas/common.js';
import type { App } from '../http/type-provider.js';
import { stagingBarcode } from '../label/staging-label.js';
import type { StagedRecord } from './presale-book.js';
import type { PresaleService } from './presale-service.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const State = Type.Union([Type.Literal('staged'), Type.Literal('released'), Type.Literal('unpacked')]);
const Parcel = Type.Object({
  staging_id: Type.String({ description: 'the id of the shipment that packed it' }),
  staging_barcode: Type.String({ description: 'the barcode on its staging label' }),
  order_id: Type.String(),
  state: State,
  paid: Type.Boolean(),
  unpack_reason: Nullable(Type.String({ description: 'on the unpack list: the interception code that stopped its order' })),
  station_id: Type.String(),
  grams: Nullable(Type.Number()),
  staged_at: Type.Integer(),
  released_shipment_id: Nullable(Type.String()),
  released_at: Nullable(Type.Integer()),
  unpacked_at: Nullable(Type.Integer()),
  unpacked_by: Nullable(Type.String()),
});
const Counts = {
  staged: Type.Integer({ description: 'on the presale shelf, not paid yet' }),
  ready: Type.Integer({ description: 'paid, waiting for a scan of their staging label' }),
  unpack: Type.Integer({ description: 'on the unpack list' }),
};
const Params = Type.Object({ stagingId: Type.String({ minLength: 1, maxLength: 128 }) });

type ParcelView = StagedRecord & { paid: boolean; unpackReason: string | null };

function parcelWire(r: ParcelView): Static<typeof Parcel> {
  return {
    staging_id: r.stagingId,
    staging_barcode: stagingBarcode(r.stagingId),
    order_id: r.orderId,
    state: r.state,
    paid: r.paid,
    unpack_reason: r.unpackReason,
    station_id: r.stationId,
    grams: r.grams,
    staged_at: r.stagedAt,
    released_shipment_id: r.releasedShipmentId,
    released_at: r.releasedAt,
    unpacked_at: r.unpackedAt,
    unpacked_by: r.unpackedBy,
  };
}

export function registerPresaleRoutes(fastify: FastifyInstance, presale: PresaleService): void {
  const app = fastify as unknown as App;
  const tags = ['presale'];

  app.get(
    '/api/v1/presale',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Presale parcels packed ahead: on the shelf, released, unpacked',
        security: bearer,
        querystring: Type.Object({ state: Type.Optional(State) }, { additionalProperties: false }),
        response: { 200: Type.Object({ ...Counts, parcels: Type.Array(Parcel) }), ...errorResponses },
      },
    },
    async (request) => ({ ...presale.counts(), parcels: presale.list(request.query.state).map(parcelWire) }),
  );

  app.get(
    '/api/v1/presale/unpack',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'The unpack list: staged parcels whose order was stopped (refund, cancel…) before payment',
        security: bearer,
        response: { 200: Type.Object({ parcels: Type.Array(Parcel) }), ...errorResponses },
      },
    },
    async () => ({ parcels: presale.unpackList().map((r) => parcelWire({ ...r, paid: presale.book.isPaid(r.orderId), unpackReason: r.reason })) }),
  );

  app.get(
    '/api/v1/presale/parcels/:stagingId',
    {
      config: { auth: 'read' },
      schema: { tags, summary: 'One staged parcel', security: bearer, params: Params, response: { 200: Parcel, ...errorResponses } },
    },
    async (request) => {
      const r = presale.get(request.params.stagingId);
      if (r === null) throw new PacklineError('PKL_PRESALE_UNKNOWN', { stagingId: request.params.stagingId });
      return parcelWire(r);
    },
  );

  app.post(
    '/api/v1/presale/parcels/:stagingId/unpacked',
    {
      config: { auth: 'scan' },
      schema: {
        tags,
        summary: 'Mark a parcel of the unpack list unpacked (presale.unpacked, once; the same call again answers duplicate)',
        security: bearer,
        params: Params,
        body: Type.Object({ operator: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ duplicate: Type.Boolean(), parcel: Parcel }), ...errorResponses },
      },
    },
    async (request) => {
      const r = await presale.markUnpacked(request.params.stagingId, request.body.operator ?? 'api');
      if (!r.ok) throw new PacklineError(r.code, r.details);
      const view = presale.get(r.value.parcel.stagingId);
      return { duplicate: r.value.duplicate, parcel: parcelWire(view as ParcelView) };
    },
  );
}
