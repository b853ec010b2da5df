// The zcsp controller runtime: what controllers and the `manager` command import.
//
//   const vpgs = resourceForKind(vpgKind);
//   const manager = new Manager({ kubeConfig, leaderElection: { namespace: 'zcsp-system', name: 'zcsp-manager' } });
//   manager.add(defineController({
//     name: 'vpg', for: vpgs, owns: [CONFIG_MAPS],
//     async reconcile(key, ctx) {
//       const obj = ctx.get();                       // level-triggered: read the current state
//       if (obj === undefined) return;               // deleted: owner references clean up
//       const vpg = parseObject(vpgKind, obj);       // InvalidObjectError: terminal
//       await ctx.ensure(CONFIG_MAPS, { metadata: { name: childName([key.split('/')[1] ?? '', 'plan']), namespace: ctx.namespace }, data: {} });
//       await ctx.patchStatusIfChanged(obj, { observedGeneration: obj.metadata?.generation, conditions: … });
//       return { requeueAfter: 30_000 };
//     },
//   }));
//   await manager.start();
//   process.exitCode = await manager.stopOnSignals();
export { Manager, type ManagerOptions } from './manager.ts';
export {
  defineController, watchSource, isTerminal, Controller,
  type ControllerDefinition, type ReconcileContext, type ReconcileResult, type CacheReader, type WatchSource, type OwnsSource, type Scope,
} from './controller.ts';
export { Informer, type InformerHandler, type InformerOptions } from './informer.ts';
export { Store, objectKey, splitKey, joinKey } from './store.ts';
export { WorkQueue, runWorkers, type WorkQueueMetrics } from './workqueue.ts';
export { Backoff, KeyedBackoff, backoffDelay, sleep, type BackoffOptions } from './backoff.ts';
export { KubeClient, CONTENT_TYPE, type RequestOptions, type ListOptions } from './client.ts';
export { classifyRequest, WRITE_VERBS } from './api-requests.ts';
export {
  defineResource, resourceForKind, resourcePath, apiVersionOf, resourceName,
  CONFIG_MAPS, SECRETS, NAMESPACES, NODES, PODS, SERVICES, SERVICE_ACCOUNTS, PERSISTENT_VOLUME_CLAIMS, DEPLOYMENTS, DAEMON_SETS, LEASES, EVENTS,
  type ResourceType,
} from './resources.ts';
export {
  setStatusCondition, removeStatusCondition, findStatusCondition, isStatusConditionTrue, metaTime, microTime,
  type Condition, type NewCondition, type ConditionStatus,
} from './conditions.ts';
export { patchStatusIfChanged, statusPatch, DEFAULT_FIELD_MANAGER } from './status.ts';
export { ensure, appliedConfiguration, APPLIED_HASH_ANNOTATION, type EnsureResult, type EnsureOptions } from './apply.ts';
export { controllerReference, controllerOf, ownerKeysOf } from './owners.ts';
export { childName } from './names.ts';
export { EventRecorder, type EventSpec } from './events.ts';
export { addFinalizer, removeFinalizer, hasFinalizer, isDeleting } from './finalizers.ts';
export { LeaderElector, defaultIdentity, type LeaderElectionConfig } from './leader-election.ts';
export { Registry, Counter, Gauge, Histogram, PROMETHEUS_CONTENT_TYPE } from './metrics.ts';
export { countWrites, type RuntimeMetrics } from './runtime-metrics.ts';
export { startHttpServer, type HttpServer, type Check } from './http-server.ts';
export { deepEqual, isSubset, mergePatchDiff, canonicalJson } from './equal.ts';
export {
  RuntimeError, TerminalError, ApiError, isNotFound, isConflict, isAlreadyExists, isGone, errorMessage, statusCodeOf,
  type RuntimeErrorCode,
} from './errors.ts';
export { createLogger, silentLogger, type Logger } from './logger.ts';
export type * from './types.ts';
