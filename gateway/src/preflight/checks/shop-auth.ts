/**
 * Shop authorisations: a shop whose platform grant expired gets no new orders and no
 * waybills. Known from the cloud (contracts/sync.ts ShopAuthorisations); the last answer is
 * kept, so with the WAN down the check still says when each grant ends.
 */
import type { ShopAuthorisation } from '../../../../contracts/sync.js';
import { type CheckResult, humanDuration } from '../report.js';

export interface ShopAuthSource {
  shops: ShopAuthorisation[];
  /** When the cloud answered (epoch ms). */
  fetchedAt: number;
  /** True when this is the stored answer because the cloud could not be asked now. */
  fromCache: boolean;
}

export function checkShopAuth(source: ShopAuthSource | null, why: string | null, warnDays: number, now: number): CheckResult {
  const title = `Shop authorisations (expiring within ${warnDays} days)`;
  if (source === null) return { id: 'shop-auth', title, status: 'warn', detail: `unknown: ${why ?? 'not asked'}`, data: { known: false } };
  const warnMs = warnDays * 86_400_000;
  const expired = source.shops.filter((s) => s.expires_at !== null && s.expires_at <= now);
  const soon = source.shops.filter((s) => s.expires_at !== null && s.expires_at > now && s.expires_at - now <= warnMs);
  const data = { known: true, fetchedAt: source.fetchedAt, fromCache: source.fromCache, shops: source.shops };
  const asOf = source.fromCache ? `\n(as the cloud said ${humanDuration(now - source.fetchedAt)} ago${why ? `; now: ${why}` : ''})` : '';
  const lines = [
    ...expired.map(
      (s) =>
        `${s.shop}${s.platform ? ` (${s.platform})` : ''}: EXPIRED ${humanDuration(now - (s.expires_at ?? now))} ago: renew it in the platform's seller centre`,
    ),
    ...soon.map(
      (s) =>
        `${s.shop}${s.platform ? ` (${s.platform})` : ''}: expires in ${humanDuration((s.expires_at ?? now) - now)} (${new Date(s.expires_at ?? now).toISOString().slice(0, 10)})`,
    ),
  ];
  if (expired.length > 0) return { id: 'shop-auth', title, status: 'fail', detail: lines.join('\n') + asOf, data };
  if (soon.length > 0) return { id: 'shop-auth', title, status: 'warn', detail: lines.join('\n') + asOf, data };
  return {
    id: 'shop-auth',
    title,
    status: source.fromCache ? 'warn' : 'pass',
    detail: `${source.shops.length} shop(s), none expiring within ${warnDays} days${asOf}`,
    data,
  };
}
