// The ServiceProfile controller: validates a profile, reports who uses it, and keeps a profile in
// use from being deleted (finalizer zcsp.io/in-use, removed once no Zorg allows it and no VPG
// uses it; meanwhile Deletable=False, reason InUse, names the users).
import {
  defineController, isDeleting, watchSource, type Condition, type ControllerDefinition, type CustomObject, type ReconcileContext,
} from '../../runtime/index.ts';
import { InvalidObjectError, parseObject } from '../../crds/parse.ts';
import { serviceProfileKind } from '../../crds/service-profile.ts';
import type { OperatorConfig } from '../config.ts';
import { SERVICE_PROFILES, VPGS, ZORGS } from '../resources.ts';
import { defaultProfilesByNamespace, inUse, profileEvents, profileStatus, profileUsage, profilesOfVpg, profilesOfZorg } from './usage.ts';

export { profileUsage, describeUsage, type ProfileUsage } from './usage.ts';

export const IN_USE_FINALIZER = 'zcsp.io/in-use';

export function serviceProfileController(_config: OperatorConfig): ControllerDefinition<CustomObject> {
  // namespace → default profiles of its Zorg: maps a VPG that names no profile to the one it
  // uses. Rebuilt from the cache by every reconcile; a Zorg change reconciles its profiles, so a
  // new default is known before a VPG event needs it (and a VPG counted late is still counted
  // by the reconcile that the Zorg change caused).
  let defaults: ReadonlyMap<string, readonly string[]> = new Map();
  return defineController({
    name: 'service-profile',
    for: SERVICE_PROFILES,
    watches: [
      watchSource({ resource: ZORGS, map: (zorg) => profilesOfZorg(zorg) }),
      watchSource({ resource: VPGS, map: (vpg) => profilesOfVpg(vpg, defaults) }),
    ],
    async reconcile(_key, ctx: ReconcileContext<CustomObject>) {
      let obj = ctx.get();
      const zorgs = ctx.cache.list(ZORGS);
      defaults = defaultProfilesByNamespace(zorgs);
      if (obj === undefined) return undefined;
      const usage = profileUsage(ctx.name, zorgs, ctx.cache.list(VPGS));
      const deleting = isDeleting(obj);
      if (deleting) {
        if (!(obj.metadata?.finalizers ?? []).includes(IN_USE_FINALIZER)) return undefined;
        if (!inUse(usage)) {
          await ctx.removeFinalizer(obj, IN_USE_FINALIZER);
          ctx.log.info('profile unused: deletion may proceed');
          return undefined;
        }
      } else {
        obj = (await ctx.addFinalizer(obj, IN_USE_FINALIZER)).object;
      }
      let invalid: string | undefined;
      try {
        parseObject(serviceProfileKind, obj);
      } catch (err: unknown) {
        if (!(err instanceof InvalidObjectError)) throw err;
        invalid = err.message;
      }
      const status = profileStatus(obj.status, { generation: obj.metadata?.generation, invalid, usage, deleting });
      const { changed } = await ctx.patchStatusIfChanged(obj, status);
      if (changed) {
        for (const event of profileEvents(obj.status?.['conditions'] as Condition[] | undefined, status['conditions'] as Condition[], deleting)) ctx.event(obj, event);
      }
      return undefined;
    },
  });
}
