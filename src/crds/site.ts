// Site (cluster-scoped): a location, as Zerto's ZVM site: a set of nodes of this cluster chosen
// by a node selector, the VRAs the operator runs on them, the bandwidth replication may use, and
// (in a later stage) a paired remote cluster.
import { z } from 'zod';
import { labels, positiveQuantity, quantity, secretReference, setOf, statusBase } from './common.ts';
import { defineKind } from './crd.ts';
import { SizingTotals } from './sizing.ts';
import { compareQuantities } from './quantity.ts';
import { withRules } from './rules.ts';

const resourceList = (what: string) => z.strictObject({
  cpu: quantity(`CPU ${what}, e.g. 500m or 2.`).optional(),
  memory: quantity(`Memory ${what}, e.g. 512Mi.`).optional(),
});

type ResourceList = z.output<ReturnType<typeof resourceList>>;

const atMost = (request: ResourceList, limit: ResourceList, name: keyof ResourceList): boolean => {
  const r = request[name];
  const l = limit[name];
  return r === undefined || l === undefined || compareQuantities(r, l) <= 0;
};

const resources = withRules(z.strictObject({
  requests: resourceList('the scheduler reserves').optional().describe('What the scheduler reserves for each VRA.'),
  limits: resourceList('a VRA may use at most').optional().describe('The most each VRA may use.'),
}), (['cpu', 'memory'] as const).map((name) => ({
  cel: `!has(self.requests) || !has(self.limits) || !has(self.requests.${name}) || !has(self.limits.${name}) || quantity(string(self.requests.${name})).compareTo(quantity(string(self.limits.${name}))) <= 0`,
  message: `requests.${name} must not exceed limits.${name}`,
  field: ['requests', name],
  check: (r: { requests?: ResourceList | undefined; limits?: ResourceList | undefined }) => atMost(r.requests ?? {}, r.limits ?? {}, name),
}))).describe('CPU and memory of each VRA container, as a Pod\'s resources. Unset: none reserved, no limits.');

const hostPath = z.string().min(2).max(512).regex(/^\/.*[^/]$/).describe('An absolute path on the node.');

const vra = z.strictObject({
  image: z.string().min(1).max(512).optional()
    .describe('The VRA container image. Unset: the operator\'s own image (one image, a subcommand per role).'),
  resources: resources.optional(),
  readHostPaths: setOf(hostPath, { min: 1, max: 16 },
    'Node paths the VRA may read, mounted read-only: where the node keeps the protected volumes (the kubelet\'s pods folder, a CSI driver\'s data folder). VRAs run as root with two capabilities (read and keep any file); a path under /dev (raw block volumes) makes them privileged, as only privileged containers get device nodes.')
    .default(['/var/lib/kubelet']),
  storage: z.strictObject({
    storageClassName: z.string().min(1).max(253).optional()
      .describe('StorageClass of each VRA\'s volume (journals and replicas when the site is a recovery site). Unset: the cluster\'s default class.'),
    size: positiveQuantity('Size of each VRA\'s volume, e.g. 500Gi. It can grow (if the StorageClass allows expansion) but not shrink.', [{
      cel: 'quantity(string(self)).compareTo(quantity(string(oldSelf))) >= 0', message: 'the VRA volume cannot shrink', transition: true,
    }]).default('50Gi'),
  }).prefault({}).describe('The volume each VRA keeps its journals and replicas on.'),
}).prefault({}).describe('The VRAs (replication appliances) the operator runs, one per node of the site.');

const HH_MM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

const window = withRules(z.strictObject({
  start: z.string().max(5).regex(HH_MM).describe('Start of the window, HH:MM (24 h).'),
  end: z.string().max(5).regex(HH_MM).describe('End of the window, HH:MM (24 h); before start means the window spans midnight.'),
  timeZone: z.string().min(1).max(64).regex(/^[A-Za-z][-A-Za-z0-9_+]*(\/[-A-Za-z0-9_+]+)*$/).default('UTC')
    .describe('IANA time zone of start and end, e.g. Europe/Berlin.'),
}), [{
  cel: 'self.start != self.end', message: 'start and end must differ (leave window out to limit all day)', field: ['end'],
  check: (w) => w.start !== w.end,
}]);

const bandwidth = z.strictObject({
  limitMbps: z.int().min(1).max(1000000).describe('The most replication traffic leaving the site\'s VRAs, in megabits per second.'),
  window: window.optional().describe('Apply the limit only in this daily window; unlimited outside it. Unset: always.'),
}).describe('Throttling of the site\'s outgoing replication traffic. Unset: unlimited.');

const remote = z.strictObject({
  endpoint: z.string().max(512).regex(/^https:\/\/[^ \t\r\n/:]+(:[0-9]{1,5})?(\/[^ \t\r\n]*)?$/)
    .describe('HTTPS URL of the remote cluster\'s zcsp endpoint.'),
  credentialsSecret: secretReference('Secret with the credentials (ca.crt, tls.crt, tls.key) for the remote endpoint.'),
}).describe('A paired remote cluster this site stands for. Unset: the site is nodes of this cluster.');

export const SiteSpec = z.strictObject({
  description: z.string().max(1024).optional().describe('What and where the site is, for people.'),
  nodeSelector: labels('Labels of the site\'s nodes (all of them must match), e.g. zcsp.io/site: prod. A node should belong to one site.', { min: 1, max: 16 }),
  vra,
  bandwidth: bandwidth.optional(),
  remote: remote.optional(),
}).describe('Which nodes make up the site, and how its VRAs run.');
export type SiteSpec = z.output<typeof SiteSpec>;

export const SiteStatus = z.strictObject({
  ...statusBase,
  nodeCount: z.int().min(0).optional().describe('How many Ready nodes match the node selector.'),
  vras: z.strictObject({
    desired: z.int().min(0).describe('VRAs the site should have: one per matching node.'),
    ready: z.int().min(0).describe('VRAs that are Ready.'),
  }).optional().describe('The site\'s VRAs.'),
  sizing: z.strictObject({
    asRecoverySite: SizingTotals.describe('VPGs that recover here: replicas, journals, tests, inbound bandwidth.'),
    asProtectedSite: SizingTotals.describe('VPGs protected here: outbound bandwidth, and the space reverse protection needs here after a failover.'),
    vraCapacityBytes: z.int().min(0).optional().describe('The VRA volumes\' total size (spec.vra.storage.size per VRA), which journals, replicas and test scratch share.'),
  }).optional().describe('Capacity the VPGs protected at or recovering to this site need, summed from their status.sizing.'),
}).describe('What the controller observed of the site.');
export type SiteStatus = z.output<typeof SiteStatus>;

export const siteKind = defineKind({
  kind: 'Site',
  plural: 'sites',
  singular: 'site',
  shortNames: ['site'],
  scope: 'Cluster',
  description: 'Site is a location VPGs replicate from and to (a Zerto site): nodes selected by labels, the VRAs the operator runs on them, and the bandwidth replication may use.',
  spec: SiteSpec,
  status: SiteStatus,
  printerColumns: [
    { name: 'Nodes', type: 'integer', jsonPath: '.status.nodeCount', description: 'Ready nodes of the site.' },
    { name: 'VRAs', type: 'integer', jsonPath: '.status.vras.ready', description: 'Ready VRAs.' },
    { name: 'Limit-Mbps', type: 'integer', jsonPath: '.spec.bandwidth.limitMbps', description: 'Bandwidth limit.' },
    { name: 'Description', type: 'string', jsonPath: '.spec.description', description: 'What the site is.', priority: 1 },
  ],
});

export const Site = siteKind.schema;
export type Site = z.output<typeof Site>;
