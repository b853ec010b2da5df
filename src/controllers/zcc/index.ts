// The ZCC controller: for each ZCC in the provider namespace, the tenant's connector.
//
// - Credentials: the Secret spec.credentialsSecretName names (the provider's), or else
//   <name>-credentials, generated once (a random token and a self-signed TLS identity) and never
//   rewritten by a reconcile; deleting it makes a new one (and rolls the connector pods, whose
//   template carries a hash of the credentials).
// - Routes: a ConfigMap with the sites the tenant's traffic may reach: the recovery sites of the
//   VPGs in the Zorg's namespaces. The controller reads every tenant's VPGs; the connector only
//   reads its own routes (see src/zcc/routes.ts).
// - A ServiceAccount, and a Role + RoleBinding for what the connector reads: VRA pods and its
//   routes ConfigMap, in the provider namespace. Nothing in any tenant namespace.
// - A Deployment running `zcsp zcc` with the Secret mounted, spec.replicas pods, and a Service of
//   spec.serviceType in front.
// - Status: readyReplicas, endpoint (Service address:9443), Ready.
import { parseObject } from '../../crds/parse.ts';
import { zccKind } from '../../crds/zcc.ts';
import { zorgKind } from '../../crds/zorg.ts';
import type { Deployment, Role, RoleBinding, Service, ServiceAccount } from '../../kube/objects.ts';
import {
  CONFIG_MAPS, DEPLOYMENTS, SECRETS, SERVICES, SERVICE_ACCOUNTS, controllerReference, defineController, errorMessage, isAlreadyExists,
  isDeleting, watchSource, type ControllerDefinition, type CustomObject, type KubeObject, type ReconcileContext, type Secret,
} from '../../runtime/index.ts';
import type { OperatorConfig } from '../config.ts';
import { ROLES, ROLE_BINDINGS, VPGS, ZCCS, ZORGS } from '../resources.ts';
import {
  credentialsHash, credentialsProblem, credentialsSecretName, desiredDeployment, desiredRole, desiredRoleBinding, desiredRoutes,
  desiredService, desiredServiceAccount, generateCredentials, type ZccRef,
} from './objects.ts';
import { zccStatus } from './status.ts';

export * from './objects.ts';
export { endpointOf, zccStatus } from './status.ts';

/** The recovery sites of the VPGs in `namespaces` (VPGs are read leniently: a bad one adds nothing). */
export function recoverySitesOf(vpgs: readonly CustomObject[], namespaces: readonly string[]): string[] {
  const sites = new Set<string>();
  for (const vpg of vpgs) {
    if (!namespaces.includes(vpg.metadata?.namespace ?? '')) continue;
    const site = (vpg.spec as { recoverySite?: unknown } | undefined)?.recoverySite;
    if (typeof site === 'string' && site !== '') sites.add(site);
  }
  return [...sites].sort();
}

export function zccController(config: OperatorConfig): ControllerDefinition<CustomObject> {
  const ns = config.namespace;
  // Which ZCCs a Zorg or VPG event concerns: each ZCC's Zorg and that Zorg's namespaces, as its
  // last reconcile saw them. An event before a ZCC's first reconcile is harmless: that reconcile
  // reads the Zorg and the VPGs itself.
  const index = new Map<string, { zorg: string; namespaces: readonly string[] }>();
  const keysWhere = (match: (v: { zorg: string; namespaces: readonly string[] }) => boolean): string[] =>
    [...index].filter(([, v]) => match(v)).map(([k]) => k);

  return defineController({
    name: 'zcc',
    for: ZCCS,
    forScope: { namespace: ns },
    owns: [SECRETS, CONFIG_MAPS, SERVICE_ACCOUNTS, ROLES, ROLE_BINDINGS, DEPLOYMENTS, SERVICES],
    watches: [
      watchSource<CustomObject>({ resource: ZORGS, map: (zorg) => keysWhere((v) => v.zorg === zorg.metadata?.name) }),
      watchSource<CustomObject>({ resource: VPGS, map: (vpg) => keysWhere((v) => v.namespaces.includes(vpg.metadata?.namespace ?? '')) }),
    ],
    async reconcile(key, ctx) {
      const obj = ctx.get();
      if (obj === undefined) {
        index.delete(key);
        return;
      }
      const zcc = parseObject(zccKind, obj);
      if (isDeleting(obj)) return; // the garbage collector takes the children
      const ref: ZccRef = { name: zcc.metadata.name ?? ctx.name, zorg: zcc.spec.zorg };

      // The tenant: its namespaces hold the VPGs whose recovery sites it may reach.
      let blocker: { reason: string; message: string } | undefined;
      let namespaces: readonly string[] = [];
      const zorgObj = ctx.cache.get(ZORGS, ref.zorg);
      if (zorgObj === undefined) {
        blocker = { reason: 'ZorgNotFound', message: `Zorg ${ref.zorg} does not exist: the connector routes nothing` };
      } else {
        try {
          namespaces = parseObject(zorgKind, zorgObj).spec.namespaces;
        } catch (err: unknown) {
          blocker = { reason: 'ZorgInvalid', message: `Zorg ${ref.zorg} cannot be read (${errorMessage(err)}): the connector routes nothing` };
        }
      }
      index.set(key, { zorg: ref.zorg, namespaces });
      const sites = recoverySitesOf(ctx.cache.list<CustomObject>(VPGS), namespaces);

      const secretName = credentialsSecretName(ref.name, zcc.spec.credentialsSecretName);
      const secret = await credentials(ctx, obj, config, ref, secretName, zcc.spec.credentialsSecretName === undefined);
      const problem = credentialsProblem(secret, secretName);
      if (problem !== undefined) blocker ??= { reason: 'CredentialsInvalid', message: problem };

      await ctx.ensure<ServiceAccount>(SERVICE_ACCOUNTS, desiredServiceAccount(config, ref));
      await ctx.ensure<Role>(ROLES, desiredRole(config, ref));
      await ctx.ensure<RoleBinding>(ROLE_BINDINGS, desiredRoleBinding(config, ref));
      await ctx.ensure(CONFIG_MAPS, desiredRoutes(config, ref, sites));
      const deployment = (await ctx.ensure<Deployment>(DEPLOYMENTS, desiredDeployment(config, ref, {
        replicas: zcc.spec.replicas, secretName, credentialsHash: credentialsHash(secret),
      }))).object;
      const service = (await ctx.ensure<Service>(SERVICES, desiredService(config, ref, zcc.spec.serviceType))).object;

      await ctx.patchStatusIfChanged(obj, zccStatus({
        previous: obj.status, generation: obj.metadata?.generation, replicas: zcc.spec.replicas, deployment, service, blocker,
      }));
    },
  });
}

/**
 * The credentials Secret: read from the cache; created only when it is ours to create and does
 * not exist. Never updated: a reconcile must not rotate a tenant's token under its VRAs.
 */
async function credentials(ctx: ReconcileContext<CustomObject>, owner: KubeObject, config: OperatorConfig, ref: ZccRef, name: string, ours: boolean): Promise<Secret | undefined> {
  const cached = ctx.cache.get<Secret>(SECRETS, name, config.namespace);
  if (cached !== undefined || !ours) return cached;
  const generated = generateCredentials(config, ref, name);
  try {
    const created = await ctx.client.create(SECRETS, { ...generated, metadata: { ...generated.metadata, ownerReferences: [controllerReference(owner, ZCCS)] } }, { fieldManager: ctx.fieldManager });
    ctx.event(owner, { type: 'Normal', reason: 'CredentialsCreated', action: 'Create', note: `generated the connector's token and TLS identity in Secret ${name}` });
    return created;
  } catch (err: unknown) {
    // The cache was behind: the Secret exists. Read it; never overwrite it.
    if (isAlreadyExists(err)) return ctx.client.get(SECRETS, name, config.namespace);
    throw err;
  }
}
