// Where a hook runs: the Ready pods of its workload in the VPG's namespace (one pod of a
// Deployment, whose replicas share their data through the protected volumes; every pod of a
// StatefulSet, each with volumes of its own), in the container it names or the pod's first.
import type { Deployment, Pod, StatefulSet } from '../../../kube/objects.ts';
import { isPodReady } from '../../../kube/objects.ts';
import { DEPLOYMENTS, PODS, isDeleting, type CacheReader } from '../../../runtime/index.ts';
import { STATEFUL_SETS } from '../../resources.ts';
import { matchesSelector } from '../volumes.ts';

export interface HookSpec {
  name: string;
  workload: { kind: 'Deployment' | 'StatefulSet'; name: string };
  container?: string | undefined;
  command: string[];
  timeoutSeconds: number;
  onError: 'Fail' | 'Continue';
}

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

/**
 * The pods to run the hook in, in name order; or why there are none (`starting`: the workload has
 * pods, none Ready yet, so a run waits rather than fails).
 */
export function hookTargets(cache: CacheReader, namespace: string, hook: HookSpec): ExecTarget[] | { problem: string; starting?: boolean } {
  const { kind, name } = hook.workload;
  const workload = kind === 'Deployment' ? cache.get<Deployment>(DEPLOYMENTS, name, namespace) : cache.get<StatefulSet>(STATEFUL_SETS, name, namespace);
  if (workload === undefined) return { problem: `${kind} ${namespace}/${name} does not exist` };
  const selector = workload.spec?.selector;
  if (selector === undefined) return { problem: `${kind} ${namespace}/${name} has no selector` };
  const all = cache.list<Pod>(PODS, { namespace }).filter((p) => !isDeleting(p) && matchesSelector(p.metadata?.labels ?? {}, selector));
  const pods = all.filter(isPodReady).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  if (pods.length === 0) return { problem: `${kind} ${namespace}/${name} has no Ready pod`, starting: all.length > 0 };
  const chosen = kind === 'Deployment' ? pods.slice(0, 1) : pods;
  const targets: ExecTarget[] = [];
  for (const pod of chosen) {
    const containers = (pod.spec?.containers ?? []).map((c) => c.name);
    const container = hook.container ?? containers[0];
    if (container === undefined || !containers.includes(container)) {
      return { problem: `pod ${namespace}/${pod.metadata?.name ?? ''} has no container ${JSON.stringify(hook.container ?? '')} (it has ${containers.join(', ') || 'none'})` };
    }
    targets.push({ namespace, pod: pod.metadata?.name ?? '', container });
  }
  return targets;
}
