/**
 * Shop authorisations of the reference cloud (contracts/sync.ts ShopAuthorisations): when each
 * shop's platform grant expires. A real order system holds one OAuth grant per shop and
 * platform; here every shop seen in an imported order has one that expires
 * `defaultValidityMs` after the cloud started, unless a test or the admin API set another
 * (`PUT /admin/shops/:shop/authorisation`). Kept in memory: it is test scaffolding, not data
 * the checker verifies.
 */
import type { ShopAuthorisation } from '../../../../contracts/sync.js';
import type { CloudDb } from './cloud-db.js';

/** A grant lasts a year on most platforms; the default keeps preflight green. */
export const DEFAULT_SHOP_VALIDITY_MS = 365 * 24 * 3_600_000;

export class ShopAuthBook {
  private readonly set = new Map<string, ShopAuthorisation>();

  constructor(
    private readonly startedAt: number,
    initial: Record<string, number | null> = {},
    private readonly defaultValidityMs = DEFAULT_SHOP_VALIDITY_MS,
  ) {
    for (const [shop, expires] of Object.entries(initial)) this.put(shop, expires);
  }

  put(shop: string, expiresAt: number | null, platform?: string): ShopAuthorisation {
    const a: ShopAuthorisation = { shop, expires_at: expiresAt, ...(platform !== undefined ? { platform } : {}) };
    this.set.set(shop, a);
    return a;
  }

  /** Every shop with a grant: the ones set explicitly, and every shop of an imported order. */
  list(db: CloudDb): ShopAuthorisation[] {
    const out = new Map(this.set);
    for (const shop of db.shops()) {
      if (!out.has(shop)) out.set(shop, { shop, expires_at: this.startedAt + this.defaultValidityMs });
    }
    return [...out.values()].sort((a, b) => a.shop.localeCompare(b.shop));
  }
}
