import { immutable, rejected, type InvalidCase, type Patch } from './table.ts';

export const zccBase: Patch = {
  apiVersion: 'zcsp.io/v1alpha1',
  kind: 'ZCC',
  metadata: { name: 'base', namespace: 'zcsp-system' },
  spec: { zorg: 'acme', replicas: 1 },
};

const spec = (s: Patch): Patch => ({ spec: s });

export const zccCases: InvalidCase[] = [
  ...rejected('ZCC', [
    ['required', 'no zorg', spec({ zorg: null }), 'spec.zorg'],
    ['format', 'zorg name with capitals', spec({ zorg: 'Acme' }), 'spec.zorg'],
    ['range', 'zero replicas', spec({ replicas: 0 }), 'spec.replicas'],
    ['range', 'six replicas', spec({ replicas: 6 }), 'spec.replicas'],
    ['type', 'replicas as a string', spec({ replicas: '2' }), 'spec.replicas'],
    ['range', 'service type Ingress', spec({ serviceType: 'Ingress' }), 'spec.serviceType'],
    ['format', 'credentials Secret name with an underscore', spec({ credentialsSecretName: 'acme_creds' }), 'spec.credentialsSecretName'],
    ['unknown', 'a port (the operator chooses it)', spec({ port: 9071 }), 'spec.port'],
  ]),
  ...immutable('ZCC', [
    ['zorg changed', {}, spec({ zorg: 'other' }), 'spec.zorg'],
  ]),
];
