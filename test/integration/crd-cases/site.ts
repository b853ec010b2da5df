import { immutable, rejected, type InvalidCase, type Patch } from './table.ts';

export const siteBase: Patch = {
  apiVersion: 'zcsp.io/v1alpha1',
  kind: 'Site',
  metadata: { name: 'base' },
  spec: {
    nodeSelector: { 'zcsp.io/site': 'prod' },
    vra: {
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      storage: { size: '10Gi' },
    },
    bandwidth: { limitMbps: 100, window: { start: '08:00', end: '18:00' } },
    remote: { endpoint: 'https://dr.example:8443', credentialsSecret: { name: 'dr-credentials', namespace: 'zcsp-system' } },
  },
};

const spec = (s: Patch): Patch => ({ spec: s });
const vra = (v: Patch): Patch => spec({ vra: v });
const requests = (r: Patch): Patch => vra({ resources: { requests: r } });
const window = (w: Patch): Patch => spec({ bandwidth: { window: w } });

export const siteCases: InvalidCase[] = [
  ...rejected('Site', [
    ['required', 'no node selector', spec({ nodeSelector: null }), 'spec.nodeSelector'],
    ['range', 'empty node selector', spec({ nodeSelector: { 'zcsp.io/site': null } }), 'spec.nodeSelector'],
    ['type', 'node selector a list', spec({ nodeSelector: ['zcsp.io/site=prod'] }), 'spec.nodeSelector'],
    ['format', 'node selector value with a space', spec({ nodeSelector: { 'zcsp.io/site': 'prod site' } }), 'spec.nodeSelector.zcsp.io/site'],
    ['range', 'node selector value longer than 63', spec({ nodeSelector: { 'zcsp.io/site': 'p'.repeat(64) } }), 'spec.nodeSelector.zcsp.io/site'],
    ['range', 'more than 16 node labels', spec({ nodeSelector: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`l${i}`, 'x'])) }), 'spec.nodeSelector'],
    ['range', 'empty VRA image', vra({ image: '' }), 'spec.vra.image'],
    ['format', 'CPU request in cores with a word', requests({ cpu: '1 core' }), 'spec.vra.resources.requests.cpu'],
    ['conflict', 'memory request above the limit', requests({ memory: '2Gi' }), 'spec.vra.resources.requests.memory'],
    ['conflict', 'CPU request as an integer above the limit in millis', { spec: { vra: { resources: { requests: { cpu: 2 }, limits: { cpu: '1500m' } } } } }, 'spec.vra.resources.requests.cpu'],
    ['format', 'relative host path', vra({ readHostPaths: ['var/lib/kubelet'] }), 'spec.vra.readHostPaths[0]'],
    ['range', 'no host paths', vra({ readHostPaths: [] }), 'spec.vra.readHostPaths'],
    ['duplicate', 'a host path twice', vra({ readHostPaths: ['/var/lib/kubelet', '/var/lib/kubelet'] }), 'spec.vra.readHostPaths[1]'],
    ['range', 'VRA volume of size zero', vra({ storage: { size: 0 } }), 'spec.vra.storage.size'],
    ['format', 'VRA volume of negative size', vra({ storage: { size: '-1Gi' } }), 'spec.vra.storage.size'],
    ['unknown', 'VRA replicas (one per node, not settable)', vra({ replicas: 2 }), 'spec.vra.replicas'],
    ['range', 'bandwidth limit 0', spec({ bandwidth: { limitMbps: 0 } }), 'spec.bandwidth.limitMbps'],
    ['required', 'bandwidth window without a limit', spec({ bandwidth: { limitMbps: null } }), 'spec.bandwidth.limitMbps'],
    ['format', 'window start 25:00', window({ start: '25:00' }), 'spec.bandwidth.window.start'],
    ['format', 'window end without minutes', window({ end: '18' }), 'spec.bandwidth.window.end'],
    ['conflict', 'window start equals end', window({ start: '18:00' }), 'spec.bandwidth.window.end'],
    ['format', 'time zone with a space', window({ timeZone: 'Europe Berlin' }), 'spec.bandwidth.window.timeZone'],
    ['format', 'remote endpoint over plain HTTP', spec({ remote: { endpoint: 'http://dr.example' } }), 'spec.remote.endpoint'],
    ['required', 'remote without credentials', spec({ remote: { credentialsSecret: null } }), 'spec.remote.credentialsSecret'],
    ['required', 'remote credentials without a namespace', spec({ remote: { credentialsSecret: { namespace: null } } }), 'spec.remote.credentialsSecret.namespace'],
  ]),
  ...immutable('Site', [
    ['VRA volume shrunk', {}, vra({ storage: { size: '5Gi' } }), 'spec.vra.storage.size'],
    ['VRA volume shrunk in other units', {}, vra({ storage: { size: '10000Mi' } }), 'spec.vra.storage.size'],
  ]),
];
