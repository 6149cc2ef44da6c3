/**
 * Meta keys retention reads and writes. `sync.acked_seq` is written by cloud sync
 * (sync/sync-store-adapter.ts META_ACKED_SEQ, kept equal by retention.test.ts); storage reads
 * it by name so that it does not depend on the sync layer.
 */
import { RESERVED_META_PREFIX } from './op-validation.js';

/** The cloud's cumulative ack: every seq up to it is stored by the cloud (docs/sync.md §1). */
export const META_ACKED_SEQ_KEY = 'sync.acked_seq';

/**
 * Every event seq up to this was pruned, except events kept on purpose (retention-plan.ts);
 * above it the log is gap-free. Reserved (`store.`): no write op may set it, only the pruner.
 */
export const META_EVENTS_PRUNED_THROUGH = `${RESERVED_META_PREFIX}events_pruned_through`;
