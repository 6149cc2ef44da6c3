/** What every fault scenario ends with: drain, stop, and the checks of invariants.ts. */
import type { ChildGateway } from '../support/child-gateway.js';
import type { AckLedger } from './floor-load.js';
import { checkStore, syncViolations } from './invariants.js';
import { api, type ChaosRig, stopGateway, until } from './rig.js';

export interface ScenarioFigures {
  violations: number;
  violationList: string[];
  [k: string]: unknown;
}

/** Lets the outbox drain, stops the gateway and runs every check; returns the violations. */
export async function drainAndCheck(
  rig: ChaosRig,
  g: ChildGateway,
  ledger: AckLedger,
): Promise<{ violations: string[]; events: number; cloud: ReturnType<ChaosRig['check']>['stats'] }> {
  const v: string[] = [];
  await until(
    'the outbox to drain',
    async () => {
      const st = (await api(g, '/api/v1/sync')).body;
      return st?.link?.backlog === 0 && st.link.acked_seq > 0;
    },
    180_000,
    200,
  ).catch((err: unknown) => v.push(String((err as Error).message)));
  const code = await stopGateway(g);
  if (code !== 0) v.push(`gateway exited with ${code} on SIGTERM`);
  const s = checkStore(rig.dbPath, ledger, { integrity: true });
  const r = rig.check();
  v.push(...s.violations, ...syncViolations(r));
  if (r.stats.cloudHwm !== s.maxSeq) v.push(`cloud hwm ${r.stats.cloudHwm}, gateway log ends at ${s.maxSeq}`);
  return { violations: v, events: s.events, cloud: r.stats };
}
