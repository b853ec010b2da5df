// ServiceProfile (cluster-scoped): an SLA template a provider offers its tenants, as Zerto's ZCM
// service profiles: RPO alert, journal history and size limits, test reminder, WAN compression,
// priority. A VPG names one, or carries the same fields as its own SLA where its Zorg allows.
import { z } from 'zod';
import { Priority, positiveQuantity, statusBase } from './common.ts';
import { defineKind } from './crd.ts';
import { compareQuantities } from './quantity.ts';
import { withRules } from './rules.ts';

const journalLimit = (what: string, unset: string) => withRules(z.strictObject({
  type: z.enum(['Unlimited', 'Size', 'Percent'])
    .describe(`Unlimited, Size (set size) or Percent (set percent, of the VPG's protected size).`),
  size: positiveQuantity(`The ${what} as a size, e.g. 150Gi. Only with type Size.`).optional(),
  percent: z.int().min(1).max(1000).optional()
    .describe(`The ${what} as a percentage (1-1000) of the total size of the VPG's protected volumes. Only with type Percent.`),
}), [
  { cel: "has(self.size) == (self.type == 'Size')", message: 'size is required with type Size and not allowed otherwise', field: ['size'], check: (l) => (l.size !== undefined) === (l.type === 'Size') },
  { cel: "has(self.percent) == (self.type == 'Percent')", message: 'percent is required with type Percent and not allowed otherwise', field: ['percent'], check: (l) => (l.percent !== undefined) === (l.type === 'Percent') },
]).describe(unset);

const journal = withRules(z.strictObject({
  historyHours: z.int().min(1).max(720).default(24)
    .describe('How far back a VPG can be recovered: checkpoints are kept this many hours (1-720) before their data is applied to the replica.'),
  hardLimit: journalLimit('hard limit', 'The most space a VPG\'s journal may use on the recovery site. When reached, the oldest data is applied to the replica early and the actual history shrinks below historyHours. Default: 150Gi.')
    .default({ type: 'Size', size: '150Gi' }),
  warningThreshold: journalLimit('warning threshold', 'Journal usage that raises a warning on the VPG. It must be below hardLimit and of the same type (Size or Percent) unless either is Unlimited. When unset, the warning is at 75 % of a Size or Percent hard limit.')
    .optional(),
}), [
  {
    cel: "!has(self.warningThreshold) || self.hardLimit.type == 'Unlimited' || self.warningThreshold.type == 'Unlimited' || self.warningThreshold.type == self.hardLimit.type",
    message: 'warningThreshold must have the same type as hardLimit (both Size or both Percent) so that it can be checked to be below it',
    field: ['warningThreshold', 'type'],
    check: (j) => j.warningThreshold === undefined || j.hardLimit.type === 'Unlimited' || j.warningThreshold.type === 'Unlimited' || j.warningThreshold.type === j.hardLimit.type,
  },
  {
    cel: '!has(self.warningThreshold) || !has(self.warningThreshold.size) || !has(self.hardLimit.size) || quantity(string(self.warningThreshold.size)).isLessThan(quantity(string(self.hardLimit.size)))',
    message: 'warningThreshold.size must be below hardLimit.size',
    field: ['warningThreshold', 'size'],
    check: (j) => j.warningThreshold?.size === undefined || j.hardLimit.size === undefined || compareQuantities(j.warningThreshold.size, j.hardLimit.size) < 0,
  },
  {
    cel: '!has(self.warningThreshold) || !has(self.warningThreshold.percent) || !has(self.hardLimit.percent) || self.warningThreshold.percent < self.hardLimit.percent',
    message: 'warningThreshold.percent must be below hardLimit.percent',
    field: ['warningThreshold', 'percent'],
    check: (j) => j.warningThreshold?.percent === undefined || j.hardLimit.percent === undefined || j.warningThreshold.percent < j.hardLimit.percent,
  },
]).describe('The journal on the recovery site: how much history it keeps and how large it may grow.');

/** The SLA fields, shared by a ServiceProfile and a VPG's own SLA. */
const slaFields = {
  rpoAlertSeconds: z.int().min(10).max(86400).default(300)
    .describe('Alert when the RPO (the age of the latest checkpoint the recovery site holds) exceeds this many seconds (10-86400).'),
  journal: journal.prefault({}),
  testReminderMonths: z.literal([0, 1, 3, 6, 9, 12]).default(6)
    .describe('Remind the tenant to run a failover test when none succeeded for this many months: 0 (off), 1, 3, 6, 9 or 12.'),
  wanCompression: z.boolean().default(true)
    .describe('Compress replication traffic between the sites (zstd): less bandwidth for some CPU on the VRAs.'),
  priority: Priority.default('Medium')
    .describe('Share of a site\'s replication bandwidth when VPGs compete for it: High, Medium or Low.'),
  checkpointIntervalSeconds: z.int().min(1).max(300).default(5)
    .describe('Seconds between crash-consistent checkpoints across all volumes of a VPG (1-300).'),
};

const slaRules = [{
  cel: 'self.rpoAlertSeconds > self.checkpointIntervalSeconds',
  message: 'rpoAlertSeconds must be longer than checkpointIntervalSeconds, or the alert would always fire',
  field: ['rpoAlertSeconds'],
  check: (s: { rpoAlertSeconds: number; checkpointIntervalSeconds: number }) => s.rpoAlertSeconds > s.checkpointIntervalSeconds,
}];

/** A VPG's own SLA: what a service profile would give it. */
export const Sla = withRules(z.strictObject(slaFields), slaRules);

export const ServiceProfileSpec = withRules(z.strictObject({
  description: z.string().max(1024).optional().describe('What the profile offers, for the tenants who choose it.'),
  ...slaFields,
}), slaRules).describe('The SLA this profile gives every VPG that uses it. Changes apply to those VPGs at once.');
export type ServiceProfileSpec = z.output<typeof ServiceProfileSpec>;

export const ServiceProfileStatus = z.strictObject({
  ...statusBase,
  vpgCount: z.int().min(0).optional().describe('How many VPGs use this profile.'),
}).describe('What the controller observed of the profile.');
export type ServiceProfileStatus = z.output<typeof ServiceProfileStatus>;

export const serviceProfileKind = defineKind({
  kind: 'ServiceProfile',
  plural: 'serviceprofiles',
  singular: 'serviceprofile',
  shortNames: ['sp'],
  scope: 'Cluster',
  description: 'ServiceProfile is an SLA template a provider offers its tenants: RPO alert, journal history and size, test reminder, WAN compression and priority. A Zorg lists the profiles its VPGs may use.',
  spec: ServiceProfileSpec,
  status: ServiceProfileStatus,
  printerColumns: [
    { name: 'RPO-Alert', type: 'integer', jsonPath: '.spec.rpoAlertSeconds', description: 'RPO alert threshold in seconds.' },
    { name: 'History(h)', type: 'integer', jsonPath: '.spec.journal.historyHours', description: 'Journal history in hours.' },
    { name: 'Priority', type: 'string', jsonPath: '.spec.priority', description: 'Bandwidth priority.' },
    { name: 'VPGs', type: 'integer', jsonPath: '.status.vpgCount', description: 'VPGs using the profile.' },
    { name: 'Hard-Limit', type: 'string', jsonPath: '.spec.journal.hardLimit.type', description: 'Journal hard limit: Unlimited, Size or Percent.', priority: 1 },
    { name: 'Size', type: 'string', jsonPath: '.spec.journal.hardLimit.size', description: 'Journal hard limit as a size.', priority: 1 },
    { name: 'Percent', type: 'integer', jsonPath: '.spec.journal.hardLimit.percent', description: 'Journal hard limit as a percentage of the protected size.', priority: 1 },
  ],
});

export const ServiceProfile = serviceProfileKind.schema;
export type ServiceProfile = z.output<typeof ServiceProfile>;

