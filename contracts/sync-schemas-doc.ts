/**
 * Renders the sync contract's TypeBox types (contracts/sync.ts) as JSON Schema files
 * (draft 2020-12 vocabulary, as TypeBox emits it) in docs/sync-schemas/, for a cloud team that
 * does not read TypeScript. `npm run docs:sync` writes them; contracts/sync-doc.test.ts fails
 * when they drift from the types.
 */
import type { TSchema } from '@sinclair/typebox';
import {
  BatchAck,
  BatchBody,
  Change,
  ChangesPage,
  CursorReply,
  RejectedEvent,
  RetryAck,
  RetryBody,
  ShopAuthorisations,
  SyncErrorBody,
  SyncEvent,
  BatchParcelEventData,
} from './sync.js';

/** File name (without .schema.json) → schema, in the order docs/sync.md introduces them. */
export const SYNC_SCHEMAS: Readonly<Record<string, TSchema>> = {
  SyncEvent,
  BatchBody,
  BatchAck,
  RejectedEvent,
  RetryBody,
  RetryAck,
  CursorReply,
  ChangesPage,
  Change,
  ShopAuthorisations,
  SyncErrorBody,
  BatchParcelEventData,
};

/** The JSON text of one schema file (symbols TypeBox keeps for itself are dropped by JSON). */
export function renderSyncSchema(name: string, schema: TSchema): string {
  const doc = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://packline.dev/schemas/sync/v1/${name}.schema.json`,
    title: name,
    ...(JSON.parse(JSON.stringify(schema)) as object),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const dir = new URL('../docs/sync-schemas/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (const [name, schema] of Object.entries(SYNC_SCHEMAS)) writeFileSync(new URL(`${name}.schema.json`, dir), renderSyncSchema(name, schema));
}
