/**
 * API tokens: warns while the bootstrap all-stations station token still works. It may scan
 * and act at every station and read every order's receiver; per-station tokens
 * (`packline token add --station <id>`) are limited to one (docs/security.md).
 */
import type { CheckResult } from '../report.js';

export interface ApiTokenFacts {
  /** The bootstrap station token of api-tokens.json works (not revoked). */
  bootstrapStationActive: boolean;
  /** Issued station tokens per station id. */
  stationTokens: Record<string, number>;
  adminTokens: number;
}

export function checkApiTokens(facts: ApiTokenFacts): CheckResult {
  const title = 'API tokens limited to their stations';
  const stations = Object.keys(facts.stationTokens).sort();
  const data = { bootstrapStationActive: facts.bootstrapStationActive, stationTokens: facts.stationTokens, adminTokens: facts.adminTokens };
  const issued = stations.length === 0 ? 'no station tokens issued' : `station tokens for ${stations.join(', ')}`;
  if (!facts.bootstrapStationActive) return { id: 'api-tokens', title, status: 'pass', detail: `${issued}; the all-stations token is revoked`, data };
  return {
    id: 'api-tokens',
    title,
    status: 'warn',
    detail:
      `${issued}; the all-stations station token of api-tokens.json still works (any station, every order's receiver).\n` +
      'Give each station PC its own token (packline token add --station <id>), then: packline token revoke station',
    data,
  };
}
