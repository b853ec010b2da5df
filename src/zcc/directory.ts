// Where a tunnel goes: the connector's view of the recovery VRAs its tenant may reach. Two
// informers, read with the connector's own ServiceAccount: the VRA pods of the provider namespace
// (label zcsp.io/role=vra) and the ZCC's routes ConfigMap (one object, by field selector, so that
// RBAC can name it). The decision itself is the pure `resolveTarget`.
import type { Logger } from 'pino';
import { CONFIG_MAPS, Informer, PODS, isDeleting, type ConfigMap, type KubeClient } from '../runtime/index.ts';
import { ANNOTATION_SITE, LABEL_ROLE, LABEL_SITE, ROLE_VRA, VRA_PORT, VRA_PORT_NAME, labelValue } from '../controllers/labels.ts';
import { isPodReady, type Pod } from '../kube/objects.ts';
import type { Target } from './handshake.ts';
import type { Resolution } from './proxy.ts';
import { parseRoutes, type Routes } from './routes.ts';

/** The VRA serving `target` for `zorg`, or why there is none. */
export function resolveTarget(target: Target, zorg: string, routes: Routes | undefined, pods: readonly Pod[]): Resolution {
  if (routes === undefined) return { ok: false, code: 'Unavailable', reason: 'the connector has no routes yet' };
  if (routes.zorg !== zorg) return { ok: false, code: 'Forbidden', reason: `the routes are for zorg "${routes.zorg}", not "${zorg}"` };
  if (!routes.recoverySites.includes(target.site)) {
    return { ok: false, code: 'Forbidden', reason: `site "${target.site}" is not a recovery site of a VPG of zorg "${zorg}"` };
  }
  const vras = pods.filter((p) => p.metadata?.labels?.[LABEL_ROLE] === ROLE_VRA
    && p.metadata.labels[LABEL_SITE] === labelValue(target.site)
    && (p.metadata.annotations?.[ANNOTATION_SITE] ?? target.site) === target.site
    && p.spec?.nodeName === target.node
    && !isDeleting(p));
  const ready = vras.filter((p) => isPodReady(p) && p.status?.podIP !== undefined && p.status.podIP !== '');
  const pod = ready[0];
  if (pod?.status?.podIP === undefined) {
    const why = vras.length === 0 ? 'no VRA' : 'no Ready VRA';
    return { ok: false, code: 'Unavailable', reason: `${why} of site "${target.site}" on node "${target.node}"` };
  }
  const port = pod.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === VRA_PORT_NAME)?.containerPort ?? VRA_PORT;
  return { ok: true, host: pod.status.podIP, port, pod: pod.metadata?.name ?? '' };
}

export interface VraDirectoryOptions {
  client: KubeClient;
  /** The provider namespace: the VRA pods and the routes ConfigMap. */
  namespace: string;
  zorg: string;
  routesConfigMap: string;
  logger: Logger;
}

export class VraDirectory {
  readonly #o: VraDirectoryOptions;
  readonly #pods: Informer<Pod>;
  readonly #routes: Informer<ConfigMap>;

  constructor(options: VraDirectoryOptions) {
    this.#o = options;
    const common = { client: options.client, namespace: options.namespace, logger: options.logger };
    this.#pods = new Informer<Pod>({ ...common, resource: PODS, labelSelector: `${LABEL_ROLE}=${ROLE_VRA}` });
    this.#routes = new Informer<ConfigMap>({ ...common, resource: CONFIG_MAPS, fieldSelector: `metadata.name=${options.routesConfigMap}` });
    this.#routes.addHandler({
      onAdd: (cm) => this.#logRoutes(cm),
      onUpdate: (_old, cm) => this.#logRoutes(cm),
      onDelete: () => options.logger.warn('the routes ConfigMap is gone: nothing is routed'),
    });
  }

  start(): void {
    this.#pods.start();
    this.#routes.start();
  }

  synced(): boolean {
    return this.#pods.hasSynced() && this.#routes.hasSynced();
  }

  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const [a, b] = await Promise.all([this.#pods.waitForSync(signal), this.#routes.waitForSync(signal)]);
    return a && b;
  }

  routes(): Routes | undefined {
    return parseRoutes(this.#routes.store.getByName(this.#o.routesConfigMap, this.#o.namespace));
  }

  resolve(target: Target): Resolution {
    return resolveTarget(target, this.#o.zorg, this.routes(), this.#pods.store.list());
  }

  async stop(): Promise<void> {
    await Promise.all([this.#pods.stop(), this.#routes.stop()]);
  }

  #logRoutes(cm: ConfigMap): void {
    const routes = parseRoutes(cm);
    if (routes === undefined) this.#o.logger.warn({ configMap: cm.metadata?.name }, 'the routes ConfigMap is unreadable: nothing is routed');
    else this.#o.logger.info({ recoverySites: routes.recoverySites }, 'routes');
  }
}
