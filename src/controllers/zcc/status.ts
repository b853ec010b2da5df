// A ZCC's status from what the controller found: pure, the same world gives the same status.
import type { Deployment, Service } from '../../kube/objects.ts';
import { setStatusCondition, type Condition, type NewCondition } from '../../runtime/index.ts';
import { ZCC_PORT } from './objects.ts';

/**
 * Where the tenant's VRAs reach the connector: a LoadBalancer's address once it has one, else the
 * Service's cluster IP (for a NodePort Service the node port is in the Ready message).
 */
export function endpointOf(service: Service | undefined): string | undefined {
  const ingress = service?.status?.loadBalancer?.ingress?.[0];
  const lb = ingress?.ip ?? ingress?.hostname;
  if (service?.spec?.type === 'LoadBalancer' && lb !== undefined) return `${lb}:${ZCC_PORT}`;
  const ip = service?.spec?.clusterIP;
  if (ip === undefined || ip === '' || ip === 'None') return undefined;
  return ip.includes(':') ? `[${ip}]:${ZCC_PORT}` : `${ip}:${ZCC_PORT}`;
}

export interface ZccStatusInput {
  previous: Record<string, unknown> | undefined;
  generation: number | undefined;
  replicas: number;
  deployment: Deployment | undefined;
  service: Service | undefined;
  /** Why the tenant cannot be served (Zorg missing, credentials unusable), with a reason word. */
  blocker?: { reason: string; message: string } | undefined;
  now?: Date;
}

/** All replicas of the current template are Ready. */
export function rolledOut(d: Deployment | undefined, replicas: number): boolean {
  const s = d?.status;
  if (s === undefined) return false;
  const current = (s.observedGeneration ?? 0) >= (d?.metadata?.generation ?? 0);
  return current && (s.updatedReplicas ?? 0) >= replicas && (s.readyReplicas ?? 0) >= replicas && (s.replicas ?? 0) === replicas;
}

export function zccStatus(input: ZccStatusInput): Record<string, unknown> {
  const g = input.generation === undefined ? {} : { observedGeneration: input.generation };
  const readyReplicas = input.deployment?.status?.readyReplicas ?? 0;
  const endpoint = endpointOf(input.service);
  const nodePort = input.service?.spec?.type === 'NodePort' ? input.service.spec.ports?.[0]?.nodePort : undefined;
  const where = [endpoint === undefined ? undefined : `endpoint ${endpoint}`, nodePort === undefined ? undefined : `node port ${nodePort}`].filter((s) => s !== undefined).join(', ');
  const pods = `${readyReplicas}/${input.replicas} connector pods ready`;
  let ready: NewCondition;
  if (input.blocker !== undefined) ready = { type: 'Ready', status: 'False', ...input.blocker, ...g };
  else if (rolledOut(input.deployment, input.replicas)) ready = { type: 'Ready', status: 'True', reason: 'Available', message: where === '' ? pods : `${pods}; ${where}`, ...g };
  else ready = { type: 'Ready', status: 'False', reason: 'RollingOut', message: pods, ...g };
  const { conditions } = setStatusCondition(input.previous?.['conditions'] as Condition[] | undefined, ready, input.now);
  return { ...g, readyReplicas, ...(endpoint !== undefined && { endpoint }), conditions };
}
