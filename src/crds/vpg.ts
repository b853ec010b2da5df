// VPG (namespaced, in a tenant namespace): a Virtual Protection Group, as in Zerto: the volumes
// and workloads recovered together, with one journal and common checkpoints; its SLA; and the
// recovery operation the tenant asks for. Its status is what the tenant watches.
import { z } from 'zod';
import {
  Priority, itemName, labelSelector, listMap, namespaceName, objectName, quantity, setOf, statusBase, timestamp,
} from './common.ts';
import { defineKind } from './crd.ts';
import { immutable, withRules } from './rules.ts';
import { Sla } from './service-profile.ts';
import { ChangeRate, VPGSizing } from './sizing.ts';

/** "exactly one of a and b" as CEL, with its TypeScript twin. */
const exactlyOne = <T extends object>(a: keyof T & string, b: keyof T & string, message: string) => ({
  cel: `has(self.${a}) != has(self.${b})`,
  message,
  field: [a],
  check: (o: T) => (o[a] !== undefined) !== (o[b] !== undefined),
});

const WorkloadKind = z.enum(['Deployment', 'StatefulSet']);

const workloadSelector = withRules(z.strictObject({
  kind: WorkloadKind.describe('Deployment or StatefulSet.'),
  name: objectName('Name of the workload in the VPG\'s namespace.').optional(),
  selector: labelSelector('Labels of the workloads (of this kind, in the VPG\'s namespace).').optional(),
}), [exactlyOne('name', 'selector', 'set exactly one of name and selector')]);

const bootGroup = z.strictObject({
  name: itemName('Name of the group, unique in the VPG.'),
  delaySeconds: z.int().min(0).max(3600).default(0)
    .describe('Seconds to wait, after the previous group is ready, before starting this one (0-3600).'),
  workloads: z.array(workloadSelector).min(1).max(16).describe('The Deployments and StatefulSets started together in this group.'),
});

const volumes = withRules(z.strictObject({
  claimNames: setOf(objectName('A PersistentVolumeClaim name.'), { min: 1, max: 64 },
    'The PersistentVolumeClaims to protect, by name, in the VPG\'s namespace.').optional(),
  selector: labelSelector('Labels of the PersistentVolumeClaims to protect in the VPG\'s namespace; claims that gain the labels later join the VPG (with an initial sync).').optional(),
}), [exactlyOne('claimNames', 'selector', 'set exactly one of claimNames and selector')])
  .describe('The volumes the VPG protects: PersistentVolumeClaims in its namespace. All of them share one journal and are recovered to the same checkpoint.');

const workloadRef = z.strictObject({
  kind: WorkloadKind.describe('Deployment or StatefulSet.'),
  name: objectName('Name of the workload in the VPG\'s namespace.'),
});

const hook = z.strictObject({
  name: itemName('Name of the hook, unique in its list.'),
  workload: workloadRef.describe('The workload in whose Ready pods the command runs (one pod of a Deployment; every pod of a StatefulSet).'),
  container: z.string().min(1).max(63).optional().describe('The container to run in. Unset: the pod\'s first container.'),
  command: z.array(z.string().max(4096)).min(1).max(32)
    .describe('The command and its arguments, run without a shell (as kubectl exec does); exit status 0 is success.'),
  timeoutSeconds: z.int().min(1).max(600).default(30).describe('Seconds the command may take (1-600).'),
  onError: z.enum(['Fail', 'Continue']).default('Fail')
    .describe('Fail: skip this application-consistent checkpoint (crash-consistent ones continue). Continue: take it anyway, tagged "not app-consistent: <hook> failed" instead of app-consistent.'),
});

const hooks = z.strictObject({
  intervalMinutes: z.int().min(1).max(1440).default(60)
    .describe('Minutes between application-consistent checkpoints (1-1440). Crash-consistent checkpoints continue every few seconds in between.'),
  preCheckpoint: listMap(hook, ['name'], { max: 8 },
    'Commands that quiesce the application (flush, freeze) before the checkpoint, run in order.').optional(),
  postCheckpoint: listMap(hook, ['name'], { max: 8 },
    'Commands that resume the application after the checkpoint, run in order; they run even when a pre hook failed.').optional(),
}).describe('Application-consistent checkpoints: commands run in the workload\'s pods around a checkpoint, which is then tagged app-consistent.');

const recovery = withRules(z.strictObject({
  namespace: namespaceName('The namespace a failover or move recovers into: one of the Zorg\'s namespaces.'),
  testNamespace: namespaceName('The namespace a failover test recovers into, torn down when the test stops: one of the Zorg\'s namespaces.'),
  storageClassName: z.string().min(1).max(253).optional()
    .describe('StorageClass of the recovered PersistentVolumeClaims. Unset: the class of each protected claim.'),
}), [{
  cel: 'self.testNamespace != self.namespace', message: 'testNamespace must differ from namespace: a test must not touch a live recovery',
  field: ['testNamespace'], check: (r) => r.testNamespace !== r.namespace,
}]).describe('Where the VPG\'s volumes and workloads are recovered, at the recovery site.');

const CheckpointType = z.enum(['Latest', 'LatestTagged', 'Named', 'Time']);

const checkpointChoice = withRules(z.strictObject({
  type: CheckpointType.default('Latest')
    .describe('Latest: the newest checkpoint. LatestTagged: the newest tagged one (e.g. app-consistent). Named: the one with name. Time: the newest at or before time.'),
  name: z.string().min(1).max(128).optional().describe('With type Named: the checkpoint\'s id or tag, as listed in status.checkpoints.'),
  time: timestamp('With type Time: recover the newest checkpoint taken at or before this time.').optional(),
}), [
  { cel: "has(self.name) == (self.type == 'Named')", message: 'name is required with type Named and not allowed otherwise', field: ['name'], check: (c) => (c.name !== undefined) === (c.type === 'Named') },
  { cel: "has(self.time) == (self.type == 'Time')", message: 'time is required with type Time and not allowed otherwise', field: ['time'], check: (c) => (c.time !== undefined) === (c.type === 'Time') },
]);

const commitPolicy = withRules(z.strictObject({
  type: z.enum(['AutoCommit', 'AutoRollback', 'Manual'])
    .describe('What happens when the recovered workloads are up: AutoCommit or AutoRollback after timeoutMinutes, unless the tenant decides first; Manual waits for decision.'),
  timeoutMinutes: z.int().min(0).max(1440).optional()
    .describe('Minutes (0-1440) the recovery waits for a decision before AutoCommit or AutoRollback acts. Required with those types, not allowed with Manual.'),
}), [{
  cel: "has(self.timeoutMinutes) == (self.type != 'Manual')", message: 'timeoutMinutes is required with AutoCommit and AutoRollback and not allowed with Manual',
  field: ['timeoutMinutes'], check: (p) => (p.timeoutMinutes !== undefined) === (p.type !== 'Manual'),
}]);

const OperationType = z.enum(['FailoverTest', 'Failover', 'Move']);

type Operation = { type: z.output<typeof OperationType>; commitPolicy?: unknown; reverseProtection?: unknown; decision?: unknown };
const notForTests = (field: 'commitPolicy' | 'reverseProtection' | 'decision') => ({
  cel: `self.type != 'FailoverTest' || !has(self.${field})`,
  message: `${field} applies to Failover and Move only: a test ends when spec.operation is removed`,
  reason: 'FieldValueForbidden' as const,
  field: [field],
  check: (o: Operation) => o.type !== 'FailoverTest' || o[field] === undefined,
});

const operation = withRules(z.strictObject({
  type: immutable(OperationType, 'the type of a running operation cannot change: remove spec.operation first')
    .describe('FailoverTest: recover into the test namespace while replication continues. Failover: recover into the recovery namespace, whatever state the protected site is in (live failover). Move: a planned migration: stop the protected workloads, replicate the last changes, then recover without data loss. Cannot change while the operation runs.'),
  checkpoint: immutable(checkpointChoice, 'the checkpoint of a running operation cannot change: remove spec.operation first').default({ type: 'Latest' })
    .describe('The checkpoint to recover (a Move always uses the one it takes after stopping the workloads). Cannot change while the operation runs.'),
  commitPolicy: commitPolicy.optional()
    .describe('Failover and Move: how the recovery is committed. Unset: AutoCommit after 10 minutes.'),
  reverseProtection: z.boolean().optional()
    .describe('Failover and Move: after the commit, protect the recovered volumes back to the protected site (a delta sync), so the VPG can fail back.'),
  decision: z.enum(['Commit', 'Rollback']).optional()
    .describe('Failover and Move, in BeforeCommit: Commit keeps the recovered workloads and ends the operation; Rollback removes them and resumes protection as before. Once set it cannot change.'),
}), [
  notForTests('commitPolicy'),
  notForTests('reverseProtection'),
  notForTests('decision'),
  {
    cel: "self.type != 'Move' || self.checkpoint.type == 'Latest'", message: 'a Move recovers the checkpoint it takes after stopping the workloads: checkpoint.type must be Latest',
    field: ['checkpoint', 'type'], check: (o) => o.type !== 'Move' || o.checkpoint.type === 'Latest',
  },
  {
    cel: '!has(oldSelf.decision) || (has(self.decision) && self.decision == oldSelf.decision)', message: 'decision cannot be changed or withdrawn once set',
    field: ['decision'], transition: true,
  },
]).describe('The recovery operation the tenant asks for. Set it to start one; remove it to stop a failover test (and after a failover or move has finished). Progress is in status.operation; finished operations in status.history.');

export const VPGSpec = withRules(z.strictObject({
  serviceProfile: objectName('The ServiceProfile that gives this VPG its SLA: one the Zorg allows. Set this or sla. Unset with no sla: the Zorg\'s default profile.').optional(),
  sla: Sla.optional().describe('The VPG\'s own SLA instead of a ServiceProfile, if the Zorg allows it (allowCustomSla).'),
  protectedSite: immutable(objectName('The Site whose nodes run the protected workloads and volumes. Cannot change: create a new VPG to protect from elsewhere.'),
    'protectedSite cannot change: create a new VPG'),
  recoverySite: immutable(objectName('The Site the VPG replicates to and recovers at. Cannot change: its journal lives there; create a new VPG to protect elsewhere.'),
    'recoverySite cannot change: create a new VPG'),
  volumes,
  bootOrder: listMap(bootGroup, ['name'], { max: 16 },
    'The workloads to recover, in groups started in list order: a group starts when the previous one is ready and its own delay has passed. Unset: only the volumes are recovered.').optional(),
  recovery,
  priority: Priority.optional().describe('High, Medium or Low: overrides the priority of the SLA for this VPG.'),
  hooks: hooks.optional(),
  mode: withRules(z.enum(['Protect', 'Assess']), [{
    cel: "oldSelf != 'Protect' || self == 'Protect'", transition: true,
    message: 'a protecting VPG cannot go back to Assess: its journal and replica would be lost (delete it and create an assessment)',
  }]).default('Protect')
    .describe('Protect: replicate to the recovery site. Assess: only measure each volume\'s change rate on the protected site, shipping and storing nothing, to size the protection first (status.sizing); switching to Protect starts the initial sync. A protecting VPG cannot go back to Assess.'),
  deletionPolicy: z.enum(['Delete', 'Retain']).default('Delete')
    .describe('What deleting the VPG does to its data on the recovery site. Delete: replication stops and the journal and replica are removed. Retain: replication stops and both stay on the recovery VRA\'s volume, for the provider to recover by hand or remove.'),
  operation: operation.optional(),
}), [
  {
    cel: '!(has(self.serviceProfile) && has(self.sla))', message: 'set serviceProfile or sla, not both', reason: 'FieldValueForbidden', field: ['sla'],
    check: (s) => s.serviceProfile === undefined || s.sla === undefined,
  },
  {
    cel: 'self.recoverySite != self.protectedSite', message: 'recoverySite must differ from protectedSite', field: ['recoverySite'],
    check: (s) => s.recoverySite !== s.protectedSite,
  },
  {
    cel: "self.mode == 'Protect' || !has(self.operation)", message: 'an assessment has nothing to recover: set mode Protect before asking for an operation',
    reason: 'FieldValueForbidden', field: ['operation'], check: (s) => s.mode === 'Protect' || s.operation === undefined,
  },
]).describe('What to protect, where to, under which SLA; and the recovery operation asked for.');
export type VPGSpec = z.output<typeof VPGSpec>;

const checkpointRef = z.strictObject({
  id: z.string().min(1).max(128).describe('The checkpoint\'s id.'),
  time: timestamp('When the checkpoint was taken (protected site clock).'),
  tag: z.string().max(128).optional().describe('Its tag: set by the tenant, app-consistent, or "tested at …" after a failover test.'),
});

const operationStep = z.strictObject({
  name: z.string().min(1).max(128).describe('The step: Prepare, Restore, Start <group>, Stop, …'),
  startTime: timestamp('When it started.'),
  endTime: timestamp('When it ended.').optional(),
});

const SyncType = z.enum(['Initial', 'Bitmap', 'Delta']);

const PHASES = [
  'Pending', 'Assessing', 'Initializing', 'MeetingSLA', 'NotMeetingSLA', 'RpoNotMeetingSLA', 'HistoryNotMeetingSLA',
  'Testing', 'FailingOver', 'Moving', 'FailedOver', 'NeedsConfiguration', 'Error',
] as const;

const SUBSTATUSES = [
  'InitialSync', 'BitmapSync', 'DeltaSync', 'SiteDisconnection', 'VraNotReady', 'JournalHardLimitReached',
  'HookFailed', 'Recovering', 'BeforeCommit', 'Committing', 'RollingBack', 'StoppingTest', 'Baseline',
] as const;

const OperationStage = z.enum(['Preparing', 'Recovering', 'Running', 'BeforeCommit', 'Committing', 'RollingBack', 'Stopping']);
const OperationResult = z.enum(['Succeeded', 'Failed', 'RolledBack', 'Stopped']);

const volumeState = z.strictObject({
  claimName: objectName('The protected PersistentVolumeClaim.'),
  size: quantity('Its capacity.').optional(),
  state: z.enum(['Pending', 'InitialSync', 'BitmapSync', 'DeltaSync', 'Protected', 'Assessing', 'Error'])
    .describe('Pending (not yet replicating), InitialSync, BitmapSync, DeltaSync, Protected (changes flowing into the journal), Assessing (spec.mode Assess: its change rate is measured, nothing replicated) or Error.'),
  syncPercent: z.int().min(0).max(100).optional().describe('Progress of the volume\'s current sync, in percent.'),
  message: z.string().max(1024).optional().describe('Why the volume is in this state, when that is not obvious.'),
  changeRate: ChangeRate.optional(),
});

export const VPGStatus = z.strictObject({
  ...statusBase,
  phase: z.enum(PHASES)
    .describe(`Overall state, as in Zerto: ${PHASES.join(', ')}.`).optional(),
  substatus: z.enum(SUBSTATUSES)
    .describe(`What the phase is waiting for or doing: ${SUBSTATUSES.join(', ')}.`).optional(),
  rpoSeconds: z.int().min(0).optional()
    .describe('Seconds between now and the latest checkpoint the recovery site holds: the data lost if the protected site failed now.'),
  placement: z.strictObject({
    protectedNode: objectName('The node whose VRA captures the VPG\'s volumes (where the volumes live).').optional(),
    recoveryNode: objectName('The recovery site\'s node whose VRA keeps the journal and replica. Chosen once (the least loaded Ready VRA) and kept.').optional(),
    streamId: z.string().min(1).max(253).optional().describe('The id of the VPG\'s replication stream on both VRAs.'),
  }).optional().describe('Where the VPG replicates from and to.'),
  journal: z.strictObject({
    since: timestamp('When the journal\'s first checkpoint was taken: history alerts compare against the time the journal has existed, up to the configured history.').optional(),
    actualHistorySeconds: z.int().min(0).describe('How far back the journal can recover now, in seconds.'),
    actualHistory: z.string().max(32).describe('actualHistorySeconds for people, e.g. 23h58m.'),
    configuredHistorySeconds: z.int().min(0).describe('The history the SLA asks for, in seconds.'),
    used: quantity('Space the journal uses on the recovery site.'),
    limit: z.string().max(64).describe('The hard limit in effect: a size, or Unlimited.'),
  }).optional().describe('The VPG\'s journal on the recovery site.'),
  checkpoints: z.strictObject({
    count: z.int().min(0).describe('Checkpoints in the journal.'),
    latest: checkpointRef.optional().describe('The newest checkpoint.'),
    oldest: checkpointRef.optional().describe('The oldest checkpoint still in the journal.'),
    tagged: listMap(checkpointRef, ['id'], { max: 32 }, 'Tagged checkpoints in the journal, newest first (at most 32).').optional(),
  }).optional().describe('The checkpoints a recovery can use.'),
  appConsistent: z.strictObject({
    startTime: timestamp('When the latest application-consistent checkpoint was attempted (its first hook started). The next is due spec.hooks.intervalMinutes later, or at once when the hooks change.'),
    result: z.enum(['Succeeded', 'Degraded', 'HookFailed', 'CheckpointFailed'])
      .describe('Succeeded: tagged app-consistent, every hook passed. Degraded: taken, but a hook failed (onError Continue, or a post hook). HookFailed: a pre hook with onError Fail failed, nothing taken. CheckpointFailed: the hooks passed, the checkpoint could not be taken.'),
    checkpoint: checkpointRef.optional().describe('The checkpoint taken, if any (its time: when it was asked for).'),
    message: z.string().max(1024).describe('What was taken, and each hook that failed with its output\'s end.'),
    hooksHash: z.string().min(1).max(64).describe('A hash of the hooks it ran.'),
  }).optional().describe('The latest application-consistent checkpoint (spec.hooks).'),
  sync: z.strictObject({
    type: SyncType.describe('Initial (full copy), Bitmap (catching up on regions changed while disconnected) or Delta (checksum compare, e.g. after reverse protection).'),
    startTime: timestamp('When the sync started.'),
    progressPercent: z.int().min(0).max(100).describe('Progress in percent.'),
    remaining: quantity('Data left to transfer.').optional(),
    eta: timestamp('Estimated time the sync completes, at the current rate.').optional(),
  }).optional().describe('The sync in progress, if any. A VPG in Initial or Delta sync cannot be recovered; in Bitmap sync its latest checkpoint still can.'),
  volumes: listMap(volumeState, ['claimName'], { max: 64 }, 'The state of each protected volume.').optional(),
  sizing: VPGSizing.optional(),
  lastTest: z.strictObject({
    startTime: timestamp('When the test started.'),
    endTime: timestamp('When the test stopped.').optional(),
    checkpoint: checkpointRef.describe('The checkpoint the test recovered.'),
    result: OperationResult.describe('Succeeded (the workloads ran), Failed, or Stopped (before they ran).'),
    rtoSeconds: z.int().min(0).optional().describe('Seconds from the request to the recovered workloads running.'),
  }).optional().describe('The latest failover test: the test reminder counts from its start.'),
  operation: z.strictObject({
    type: OperationType.describe('FailoverTest, Failover or Move.'),
    stage: OperationStage.describe('Preparing, Recovering, Running (a test), BeforeCommit, Committing, RollingBack or Stopping.'),
    startTime: timestamp('When the operation started.'),
    checkpoint: checkpointRef.optional().describe('The checkpoint being recovered.'),
    commitDeadline: timestamp('When the commit policy acts if no decision comes first.').optional(),
    message: z.string().max(1024).optional().describe('What the operation is doing, for people.'),
    progressPercent: z.int().min(0).max(100).optional().describe('How far the current stage is, in percent (restoring volumes: bytes restored of the total).'),
    error: z.string().max(1024).optional()
      .describe('Why the operation cannot go on (it retries while the cause may pass, e.g. no checkpoint yet): for a test, remove spec.operation to stop it.'),
    steps: listMap(operationStep, ['name'], { max: 24 }, 'Each step taken so far, with its timings, in order.').optional(),
    rtoSeconds: z.int().min(0).optional().describe('Seconds from the request to the recovered workloads running (the recovery time), once they run.'),
  }).optional().describe('The operation in progress.'),
  failedOver: z.strictObject({
    time: timestamp('When the failover or move was committed.'),
    checkpoint: checkpointRef.optional().describe('The checkpoint the workloads were recovered from.'),
    namespace: namespaceName('Where the workloads run now (spec.recovery.namespace).'),
    reverseVpg: objectName('The VPG in the other direction that protects the recovered volumes (in that namespace), when reverse protection was asked for.').optional(),
  }).optional().describe('Set once a failover or move was committed: the protected workloads stay stopped and this VPG does not replicate until its volumes come back (a failback along the reverse VPG).'),
  history: z.array(z.strictObject({
    type: OperationType.describe('FailoverTest, Failover or Move.'),
    startTime: timestamp('When it started.'),
    endTime: timestamp('When it ended.'),
    checkpoint: checkpointRef.optional().describe('The checkpoint it recovered.'),
    result: OperationResult.describe('Succeeded, Failed, RolledBack or Stopped.'),
    message: z.string().max(1024).optional().describe('Why it ended so.'),
    rtoSeconds: z.int().min(0).optional().describe('Seconds from the request to the recovered workloads running.'),
  })).max(10).optional().describe('The latest finished operations, newest first (at most 10).'),
}).describe('What the tenant watches: SLA state, RPO, journal, checkpoints, syncs, operations.');
export type VPGStatus = z.output<typeof VPGStatus>;

export const vpgKind = defineKind({
  kind: 'VPG',
  plural: 'vpgs',
  singular: 'vpg',
  shortNames: ['vpg'],
  scope: 'Namespaced',
  description: 'VPG (Virtual Protection Group) is a set of PersistentVolumeClaims and workloads protected together: one journal on the recovery site, crash-consistent checkpoints across all its volumes every few seconds, and recovery of any checkpoint for a failover test, a live failover or a move.',
  spec: VPGSpec,
  status: VPGStatus,
  printerColumns: [
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Overall state.' },
    { name: 'Substatus', type: 'string', jsonPath: '.status.substatus', description: 'What the phase waits for or does.' },
    { name: 'RPO(s)', type: 'integer', jsonPath: '.status.rpoSeconds', description: 'Seconds of data a failure now would lose.' },
    { name: 'History', type: 'string', jsonPath: '.status.journal.actualHistory', description: 'How far back the journal can recover.' },
    { name: 'Journal', type: 'string', jsonPath: '.status.journal.used', description: 'Journal space used.' },
    { name: 'Limit', type: 'string', jsonPath: '.status.journal.limit', description: 'Journal hard limit.', priority: 1 },
    { name: 'Protected', type: 'string', jsonPath: '.spec.protectedSite', description: 'Protected site.', priority: 1 },
    { name: 'Recovery', type: 'string', jsonPath: '.spec.recoverySite', description: 'Recovery site.', priority: 1 },
    { name: 'Operation', type: 'string', jsonPath: '.status.operation.type', description: 'Operation in progress.', priority: 1 },
  ],
  selectableFields: ['.spec.serviceProfile', '.spec.protectedSite', '.spec.recoverySite'],
});

export const VPG = vpgKind.schema;
export type VPG = z.output<typeof VPG>;
