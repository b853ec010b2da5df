// The provider's view: every Zorg with its usage against quotas and capacity figures, every Site
// with its VRAs and capacity, the ServiceProfiles, and alerts (VPGs not meeting their SLA, overdue
// failover tests, journals projected past their hard limit). For users who
// may list Zorgs cluster-wide; read with their own token.
import type { CustomObject, KubeClient } from '../runtime/index.ts';
import { SERVICE_PROFILES, SITES, VPGS, ZORGS } from '../controllers/resources.ts';
import type { Vpg } from '../kubectl/vpg.ts';
import type { Identity, UserInfo } from './identity.ts';

interface Condition { type: string; status: string; reason?: string; message?: string }
interface WithConditions extends CustomObject { status?: { conditions?: Condition[] } & Record<string, unknown>; spec?: Record<string, unknown> }

const condition = (obj: { status?: { conditions?: Condition[] } | undefined }, type: string): Condition | undefined =>
  obj.status?.conditions?.find((c) => c.type === type);

/** May the user see the provider view: list zorgs cluster-wide. */
export const isProvider = (identity: Identity, user: UserInfo): Promise<boolean> =>
  identity.can(user, { group: 'zcsp.io', resource: 'zorgs', verb: 'list' });

const SLA_ALERT_PHASES = new Set(['NotMeetingSLA', 'RpoNotMeetingSLA', 'HistoryNotMeetingSLA', 'Error', 'NeedsConfiguration']);

export interface Alert {
  kind: 'NotMeetingSLA' | 'TestOverdue' | 'JournalOverHardLimit';
  namespace: string;
  name: string;
  phase?: string | undefined;
  reason?: string | undefined;
  message?: string | undefined;
}

/** The alerts of these VPGs (pure: from their status). */
export function alertsOf(vpgs: readonly Vpg[]): Alert[] {
  const alerts: Alert[] = [];
  for (const vpg of vpgs) {
    const where = { namespace: vpg.metadata?.namespace ?? '', name: vpg.metadata?.name ?? '' };
    const phase = vpg.status?.phase;
    if (phase !== undefined && SLA_ALERT_PHASES.has(phase)) {
      const sla = condition(vpg as WithConditions, 'MeetingSLA');
      alerts.push({ kind: 'NotMeetingSLA', ...where, phase, reason: sla?.reason ?? vpg.status?.substatus, message: sla?.message });
    }
    const tested = condition(vpg as WithConditions, 'Tested');
    if (tested?.status === 'False') alerts.push({ kind: 'TestOverdue', ...where, reason: tested.reason, message: tested.message });
    // Before the history shrinks: the journal the configured history needs does not fit its hard limit.
    const journal = condition(vpg as WithConditions, 'JournalWithinHardLimit');
    if (journal?.status === 'False') alerts.push({ kind: 'JournalOverHardLimit', ...where, reason: journal.reason, message: journal.message });
  }
  return alerts;
}

async function all<T extends CustomObject>(client: KubeClient, r: Parameters<KubeClient['list']>[0]): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined;
  do {
    const page = await client.list(r, { limit: 500, continue: next });
    items.push(...page.items as T[]);
    next = page.metadata?.continue;
  } while (next !== undefined && next !== '');
  return items;
}

export async function providerSummary(client: KubeClient): Promise<unknown> {
  const [zorgs, sites, profiles, vpgs] = await Promise.all([
    all<WithConditions>(client, ZORGS), all<WithConditions>(client, SITES), all<WithConditions>(client, SERVICE_PROFILES), all<Vpg>(client, VPGS),
  ]);
  return {
    zorgs: zorgs.map((z) => {
      const namespaces = (z.spec?.['namespaces'] as string[] | undefined) ?? [];
      const quotas = z.spec?.['quotas'] as { maxVPGs?: number; maxProtectedSize?: string } | undefined;
      return {
        name: z.metadata?.name, displayName: z.spec?.['displayName'], namespaces,
        ready: condition(z, 'Ready')?.status === 'True', message: condition(z, 'Ready')?.message,
        vpgCount: (z.status?.['vpgCount'] as number | undefined) ?? vpgs.filter((v) => namespaces.includes(v.metadata?.namespace ?? '')).length,
        maxVPGs: quotas?.maxVPGs, protectedSize: z.status?.['protectedSize'], maxProtectedSize: quotas?.maxProtectedSize,
        sizing: z.status?.['sizing'],
      };
    }),
    sites: sites.map((s) => {
      const vras = s.status?.['vras'] as { desired: number; ready: number } | undefined;
      return {
        name: s.metadata?.name, ready: condition(s, 'Ready')?.status === 'True', message: condition(s, 'Ready')?.message,
        nodeCount: s.status?.['nodeCount'], vras: { desired: vras?.desired ?? 0, ready: vras?.ready ?? 0 },
        sizing: s.status?.['sizing'], capacity: condition(s, 'CapacitySufficient'),
      };
    }),
    serviceProfiles: profiles.map((p) => ({ name: p.metadata?.name, spec: p.spec })),
    vpgCount: vpgs.length,
    alerts: alertsOf(vpgs),
  };
}
