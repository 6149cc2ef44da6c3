/**
 * HTTP routes of the courier handover, the carrier holds, the consumables and the power plan
 * (docs/http.md "Handover, carrier holds, consumables, power"; docs/handover.md). Registered
 * by the composition root on the app before it listens, like the preflight routes. Refusals
 * answer with their PKL_* code and the catalogue's status.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { PacklineError } from '../../../contracts/errors.js';
import { bearer, errorResponses } from '../http/schemas/common.js';
import type { App } from '../http/type-provider.js';
import type { CarrierService } from './carrier-service.js';
import type { ConsumablesService } from './consumables-service.js';
import type { HandoverResult, HandoverService, ManifestView } from './handover-service.js';
import { type PowerPlan, UPS_EVENTS } from './power.js';

const Name = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' });
const Who = Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'operator, PDA or supervisor name (audit)' }));
const Code = Type.String({ minLength: 1, maxLength: 128, description: 'waybill on the label, order barcode or shipment id' });

const Parcel = Type.Object({ shipment_id: Type.String(), order_id: Type.String(), waybill: Type.String(), scanned_at: Type.Integer(), by: Type.String() });
const Manifest = Type.Object({
  manifest_id: Type.String(),
  carrier: Type.String(),
  state: Type.Union([Type.Literal('open'), Type.Literal('closed')]),
  opened_at: Type.Integer(),
  opened_by: Type.String(),
  closed_at: Type.Union([Type.Integer(), Type.Null()]),
  closed_by: Type.Union([Type.String(), Type.Null()]),
  count: Type.Integer({ description: 'parcels on the manifest (each once)' }),
  expected: Type.Integer({ description: 'parcels of the carrier shipped and not handed over (those on this manifest included)' }),
  manifest_url: Type.String({ description: 'the HTML manifest for an office printer' }),
  parcels: Type.Array(Parcel),
});
const ScanReply = Type.Object({ duplicate: Type.Boolean({ description: 'the parcel was on the manifest already: counted once' }), manifest: Manifest });
const ManifestParams = Type.Object({ manifestId: Type.String({ minLength: 1, maxLength: 128 }) });
const CarrierParams = Type.Object({ carrier: Name });
const Pending = Type.Object({
  carriers: Type.Array(Type.Object({ carrier: Type.String(), pending: Type.Integer(), overdue: Type.Integer(), cutoff: Type.String() })),
  pending: Type.Integer(),
  overdue: Type.Integer({ description: 'parcels not handed over by their carrier cut-off' }),
  open_manifests: Type.Integer(),
});
const Hold = Type.Object({ carrier: Type.String(), reason: Type.String(), by: Type.String(), at: Type.Integer() });
const Recall = Type.Object({
  kind: Type.Literal('carrier_switch'),
  waybill: Type.String({ description: 'the voided label to pull' }),
  order_id: Type.String(),
  from_carrier: Type.String(),
  to_carrier: Type.String(),
  switch_id: Type.String(),
  at: Type.Integer(),
  pulled_at: Type.Union([Type.Integer(), Type.Null()]),
});
const Roll = Type.Object({
  printer_id: Type.String(),
  printed: Type.Integer({ description: 'labels sent since the last roll change' }),
  roll_labels: Type.Union([Type.Integer(), Type.Null()]),
  left: Type.Union([Type.Integer(), Type.Null()]),
  percent_left: Type.Union([Type.Number(), Type.Null()]),
  level: Type.Union([Type.Literal('ok'), Type.Literal('low'), Type.Literal('out'), Type.Literal('unknown')]),
});

export interface HandoverRouteDeps {
  handover: HandoverService;
  carriers: CarrierService;
  consumables: ConsumablesService;
  power: PowerPlan;
}

function unwrap<T>(r: HandoverResult<T>): T {
  if (!r.ok) throw new PacklineError(r.code, r.details);
  return r.value;
}

function manifestWire(m: ManifestView): Static<typeof Manifest> {
  return {
    manifest_id: m.manifestId,
    carrier: m.carrier,
    state: m.state,
    opened_at: m.openedAt,
    opened_by: m.openedBy,
    closed_at: m.closedAt,
    closed_by: m.closedBy,
    count: m.count,
    expected: m.expected,
    manifest_url: `/api/v1/handover/manifests/${encodeURIComponent(m.manifestId)}/manifest.html`,
    parcels: m.parcels.map((p) => ({ shipment_id: p.shipmentId, order_id: p.orderId, waybill: p.waybill, scanned_at: p.scannedAt, by: p.by })),
  };
}

export function registerHandoverRoutes(fastify: FastifyInstance, deps: HandoverRouteDeps): void {
  const app = fastify as unknown as App;
  const tags = ['handover'];

  app.get(
    '/api/v1/handover',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Parcels still to hand over per carrier, and those past their cut-off',
        security: bearer,
        response: { 200: Pending, ...errorResponses },
      },
    },
    async () => {
      const s = deps.handover.status();
      return { carriers: s.carriers, pending: s.pending, overdue: s.overdue, open_manifests: s.openManifests };
    },
  );

  app.get(
    '/api/v1/handover/manifests',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Handover manifests, open and closed',
        security: bearer,
        querystring: Type.Object({ state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('closed')])) }, { additionalProperties: false }),
        response: { 200: Type.Object({ manifests: Type.Array(Manifest) }), ...errorResponses },
      },
    },
    async (request) => ({ manifests: deps.handover.list(request.query.state).map(manifestWire) }),
  );

  app.post(
    '/api/v1/handover/manifests',
    {
      config: { auth: 'scan' },
      schema: {
        tags,
        summary: 'Open a handover manifest for a carrier (the courier is at the door)',
        security: bearer,
        body: Type.Object({ carrier: Name, operator: Who }, { additionalProperties: false }),
        response: { 200: Manifest, ...errorResponses },
      },
    },
    async (request) => manifestWire(unwrap(await deps.handover.open(request.body.carrier, request.body.operator ?? 'api'))),
  );

  app.get(
    '/api/v1/handover/manifests/:manifestId',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'One manifest: count vs expected, its parcels',
        security: bearer,
        params: ManifestParams,
        response: { 200: Manifest, ...errorResponses },
      },
    },
    async (request) => {
      const m = deps.handover.get(request.params.manifestId);
      if (m === null) throw new PacklineError('PKL_HANDOVER_MANIFEST_UNKNOWN', { manifestId: request.params.manifestId });
      return manifestWire(m);
    },
  );

  app.post(
    '/api/v1/handover/manifests/:manifestId/scans',
    {
      config: { auth: 'scan' },
      schema: {
        tags,
        summary: 'Scan a parcel into the manifest',
        description:
          'The same parcel again answers 200 with duplicate: true (counted once). Refused with 409: PKL_HANDOVER_WRONG_CARRIER, ' +
          'PKL_HANDOVER_NOT_SHIPPED, PKL_HANDOVER_INTERCEPTED (pull it), PKL_HANDOVER_ALREADY, PKL_HANDOVER_MANIFEST_CLOSED; 404 PKL_HANDOVER_PARCEL_UNKNOWN.',
        security: bearer,
        params: ManifestParams,
        body: Type.Object({ code: Code, operator: Who }, { additionalProperties: false }),
        response: { 200: ScanReply, ...errorResponses },
      },
    },
    async (request) => {
      const r = unwrap(await deps.handover.scan(request.params.manifestId, request.body.code, request.body.operator ?? 'api'));
      return { duplicate: r.duplicate, manifest: manifestWire(r.view) };
    },
  );

  app.post(
    '/api/v1/handover/manifests/:manifestId/close',
    {
      config: { auth: 'scan' },
      schema: {
        tags,
        summary: 'Close the manifest: records the handover time of each parcel, prints the ZPL manifest (handover.printer)',
        security: bearer,
        params: ManifestParams,
        body: Type.Object({ operator: Who }, { additionalProperties: false }),
        response: { 200: Manifest, ...errorResponses },
      },
    },
    async (request) => manifestWire(unwrap(await deps.handover.close(request.params.manifestId, request.body.operator ?? 'api'))),
  );

  app.get(
    '/api/v1/handover/manifests/:manifestId/manifest.html',
    {
      config: { auth: 'read' },
      schema: { tags, summary: 'The manifest as an HTML page for an office printer', security: bearer, params: ManifestParams, produces: ['text/html'] },
    },
    async (request, reply) => {
      const page = deps.handover.html(request.params.manifestId);
      if (page === null) throw new PacklineError('PKL_HANDOVER_MANIFEST_UNKNOWN', { manifestId: request.params.manifestId });
      return reply.type('text/html; charset=utf-8').send(page);
    },
  );

  // ---- carrier holds (courier overload plan) ----------------------------------------------

  app.get(
    '/api/v1/carriers/holds',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Carriers on hold and the voided labels still to pull',
        security: bearer,
        response: { 200: Type.Object({ holds: Type.Array(Hold), recalls: Type.Array(Recall) }), ...errorResponses },
      },
    },
    async () => ({
      holds: deps.carriers.holds(),
      recalls: deps.carriers.recalls().map((r) => ({
        kind: r.kind,
        waybill: r.waybill,
        order_id: r.orderId,
        from_carrier: r.fromCarrier,
        to_carrier: r.toCarrier,
        switch_id: r.switchId,
        at: r.at,
        pulled_at: r.pulledAt,
      })),
    }),
  );

  app.post(
    '/api/v1/carriers/:carrier/hold',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Hold a carrier that cannot take more: its parcels are not labelled (stations say PKL_CARRIER_HELD)',
        security: bearer,
        params: CarrierParams,
        body: Type.Object(
          { supervisor: Type.String({ minLength: 1, maxLength: 64 }), reason: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 200: Hold, ...errorResponses },
      },
    },
    async (request) => unwrap(await deps.carriers.hold(request.params.carrier, request.body.reason, request.body.supervisor)),
  );

  app.post(
    '/api/v1/carriers/:carrier/release',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Release a held carrier: its held parcels go on to their labels',
        security: bearer,
        params: CarrierParams,
        body: Type.Object({ supervisor: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ orders: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => unwrap(await deps.carriers.release(request.params.carrier, request.body.supervisor)),
  );

  app.post(
    '/api/v1/carriers/:carrier/switch',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'Switch orders of a held carrier to another carrier (new waybill from handover.waybillPool)',
        description:
          'Orders given in order_ids, or every order held at a label gate for the carrier. The same request_id again changes nothing. ' +
          'A label of the old waybill already printed is put on the recall list until reported pulled.',
        security: bearer,
        params: CarrierParams,
        body: Type.Object(
          {
            supervisor: Type.String({ minLength: 1, maxLength: 64 }),
            to: Name,
            request_id: Type.String({ minLength: 1, maxLength: 64 }),
            order_ids: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 5000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            switched: Type.Array(
              Type.Object({
                order_id: Type.String(),
                old_waybill: Type.Union([Type.String(), Type.Null()]),
                new_waybill: Type.String(),
                recalled: Type.Boolean(),
                duplicate: Type.Boolean(),
              }),
            ),
            refused: Type.Array(Type.Object({ order_id: Type.String(), code: Type.String() })),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const b = request.body;
      const r = unwrap(
        await deps.carriers.switch({
          from: request.params.carrier,
          to: b.to,
          by: b.supervisor,
          requestId: b.request_id,
          ...(b.order_ids ? { orderIds: b.order_ids } : {}),
        }),
      );
      return {
        switched: r.switched.map((s) => ({
          order_id: s.orderId,
          old_waybill: s.oldWaybill,
          new_waybill: s.newWaybill,
          recalled: s.recalled,
          duplicate: s.duplicate,
        })),
        refused: r.refused.map((x) => ({ order_id: x.orderId, code: x.code })),
      };
    },
  );

  app.post(
    '/api/v1/carriers/recalls/:waybill/pulled',
    {
      config: { auth: 'scan' },
      schema: {
        tags,
        summary: 'Report a voided label pulled off its parcel (leaves the recall list)',
        security: bearer,
        params: Type.Object({ waybill: Type.String({ minLength: 1, maxLength: 64 }) }),
        body: Type.Object({ operator: Who }, { additionalProperties: false }),
        response: { 200: Type.Object({ waybill: Type.String(), pulled_at: Type.Union([Type.Integer(), Type.Null()]) }), ...errorResponses },
      },
    },
    async (request) => {
      const r = unwrap(await deps.carriers.pulled(request.params.waybill, request.body.operator ?? 'api'));
      return { waybill: r.waybill, pulled_at: r.pulledAt };
    },
  );

  // ---- consumables ----------------------------------------------------------------------

  app.get(
    '/api/v1/consumables',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'Labels printed since the last roll change vs the roll size, per printer',
        security: bearer,
        response: { 200: Type.Object({ printers: Type.Array(Roll) }), ...errorResponses },
      },
    },
    async () => ({ printers: deps.consumables.status().map(rollWire) }),
  );

  app.post(
    '/api/v1/printers/:printerId/roll-changed',
    {
      config: { auth: 'scan' },
      schema: {
        tags,
        summary: 'A new label roll is in the printer: its count starts again',
        security: bearer,
        params: Type.Object({ printerId: Name }),
        body: Type.Object({ operator: Who }, { additionalProperties: false }),
        response: { 200: Roll, ...errorResponses },
      },
    },
    async (request) => rollWire(await deps.consumables.rollChanged(request.params.printerId, request.body.operator ?? 'api')),
  );

  // ---- power -------------------------------------------------------------------------------

  app.get(
    '/api/v1/power',
    {
      config: { auth: 'read' },
      schema: {
        tags,
        summary: 'UPS state as the gateway knows it',
        security: bearer,
        response: { 200: Type.Object({ state: Type.String(), reason: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses },
      },
    },
    async () => deps.power.status(),
  );

  app.post(
    '/api/v1/power',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        summary: 'A UPS event (NUT upsmon NOTIFYTYPE): onbatt, lowbatt, online, fsd; `packline ups <event>` sends it',
        description:
          'The configured event (handover.shutdownOn; lowbatt and fsd always) starts the graceful shutdown: new parcels refused with PKL_SHUTTING_DOWN, open ones finished, then the gateway stops.',
        security: bearer,
        body: Type.Object(
          { event: Type.Union(UPS_EVENTS.map((e) => Type.Literal(e))), source: Type.Optional(Type.String({ maxLength: 64 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ state: Type.String() }), ...errorResponses },
      },
    },
    async (request) => deps.power.signal(request.body.event, request.body.source ?? 'api'),
  );
}

function rollWire(r: ReturnType<ConsumablesService['status']>[number]): Static<typeof Roll> {
  return { printer_id: r.printerId, printed: r.printed, roll_labels: r.rollLabels, left: r.left, percent_left: r.percentLeft, level: r.level };
}
