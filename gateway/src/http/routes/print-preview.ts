/**
 * Label previews as PNG (a stored print job, a shipment's latest label) and the printer test
 * page (docs/printing.md). Previews are drawn on the gateway, offline, in a worker thread
 * (printing/label-preview.ts); the renderer lives and dies with this app.
 */
import type { FastifyReply } from 'fastify';
import { PacklineError } from '../../../../contracts/errors.js';
import { LabelPreview, labelSourceOf } from '../../printing/label-preview.js';
import { LabelTemplates } from '../../printing/label-templates.js';
import type { PrintJob } from '../../storage/types.js';
import type { HttpDeps } from '../deps.js';
import { bearer, errorResponses } from '../schemas/common.js';
import { PngReply, PrintJobParams, PrinterParams, TestPageReply } from '../schemas/print-preview.js';
import { ShipmentParams } from '../schemas/shipments.js';
import type { App } from '../type-provider.js';

/**
 * Sends PNG bytes. The OpenAPI schema calls the body a binary string, which the type provider
 * reads as `string`; a Buffer is sent as is (fastify serialises only objects), hence the plain
 * reply type here.
 */
function sendPng(reply: FastifyReply, png: Buffer): FastifyReply {
  return reply.type('image/png').header('cache-control', 'no-cache').send(png);
}

export function registerPrintPreviewRoutes(app: App, deps: HttpDeps): void {
  const preview = new LabelPreview({ logger: deps.logger.child({ component: 'label-preview' }) });
  app.addHook('onReady', () => preview.start());
  app.addHook('onClose', () => preview.stop());

  // A label already printed (its ZPL no longer stored) is rebuilt with the site's template for
  // its carrier, the same one the station printed with, so the preview matches the paper.
  const templates = new LabelTemplates(deps.config.printing.templates);
  const label = { templates };
  const png = async (job: PrintJob): Promise<Buffer> => {
    const { format, data } = labelSourceOf(job, deps.store, label);
    return preview.renderLabelPng(format, data);
  };

  app.get(
    '/api/v1/print/jobs/:jobId/preview.png',
    {
      config: { auth: 'read', station: 'job' },
      schema: {
        tags: ['printing'],
        summary: 'A stored print job drawn as PNG (ZPL; Chinese shows as boxes, see docs/http.md)',
        security: bearer,
        params: PrintJobParams,
        response: { 200: PngReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { jobId } = request.params;
      const job = deps.store.getPrintJob(jobId);
      if (job === null) throw new PacklineError('PKL_PRINT_JOB_UNKNOWN', { jobId });
      return sendPng(reply, await png(job));
    },
  );

  app.get(
    '/api/v1/shipments/:shipmentId/label.png',
    {
      config: { auth: 'read', station: 'shipment' },
      schema: {
        tags: ['shipments'],
        summary: "A shipment's latest label drawn as PNG",
        security: bearer,
        params: ShipmentParams,
        response: { 200: PngReply, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { shipmentId } = request.params;
      const shipment = deps.store.getShipment(shipmentId);
      if (shipment === null) throw new PacklineError('PKL_SHIPMENT_NOT_FOUND', { shipmentId });
      const job = shipment.labelJobId === null ? null : deps.store.getPrintJob(shipment.labelJobId);
      if (job === null) throw new PacklineError('PKL_NOT_FOUND', { what: `a label of shipment ${shipmentId}` });
      return sendPng(reply, await png(job));
    },
  );

  app.post(
    '/api/v1/printers/:printerId/test-page',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['printing'],
        summary: 'Print a test page (ids, time, Code 128, print-area frame, Chinese line) on a printer',
        description:
          "Published on dev/{printerId}/cmd/print in the printer's language; answers once the broker took it. " +
          '404 PKL_DEVICE_UNKNOWN: not a configured printer; 503 PKL_PRINTER_UNAVAILABLE: not connected.',
        security: bearer,
        params: PrinterParams,
        response: { 200: TestPageReply, ...errorResponses },
      },
    },
    async (request) => {
      const { printerId } = request.params;
      const printers = deps.printers;
      if (!deps.config.devices.some((d) => d.id === printerId && d.role === 'printer')) {
        throw new PacklineError('PKL_DEVICE_UNKNOWN', { deviceId: printerId });
      }
      if (printers === undefined) throw new PacklineError('PKL_PRINTER_UNAVAILABLE', { deviceId: printerId });
      const sent = await printers.testPage(printerId);
      request.log.info({ printerId, jobId: sent.jobId }, 'test page requested');
      return { job_id: sent.jobId, printer_id: printerId, format: sent.format };
    },
  );
}
