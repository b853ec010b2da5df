import { immutable, rejected, type InvalidCase, type Patch } from './table.ts';

export const zorgBase: Patch = {
  apiVersion: 'zcsp.io/v1alpha1',
  kind: 'Zorg',
  metadata: { name: 'base' },
  spec: {
    displayName: 'Acme',
    crmId: 'ACME-1',
    contacts: [{ name: 'SRE', email: 'sre@acme.example' }],
    members: [{ kind: 'User', name: 'alice', role: 'Admin' }, { kind: 'Group', name: 'acme-ops', role: 'Operator' }],
    namespaces: ['acme-a', 'acme-b'],
    allowedServiceProfiles: ['gold', 'silver'],
    defaultServiceProfile: 'gold',
  },
};

const spec = (s: Patch): Patch => ({ spec: s });

export const zorgCases: InvalidCase[] = [
  ...rejected('Zorg', [
    ['required', 'no displayName', spec({ displayName: null }), 'spec.displayName'],
    ['range', 'empty displayName', spec({ displayName: '' }), 'spec.displayName'],
    ['type', 'displayName a number', spec({ displayName: 42 }), 'spec.displayName'],
    ['required', 'no namespaces', spec({ namespaces: null }), 'spec.namespaces'],
    ['range', 'empty namespaces', spec({ namespaces: [] }), 'spec.namespaces'],
    ['type', 'namespaces a string', spec({ namespaces: 'acme-a' }), 'spec.namespaces'],
    ['format', 'namespace with capitals', spec({ namespaces: ['Acme'] }), 'spec.namespaces[0]'],
    ['conflict', 'a kube- namespace', spec({ namespaces: ['acme-a', 'kube-system'] }), 'spec.namespaces[1]'],
    ['conflict', 'the default namespace', spec({ namespaces: ['default'] }), 'spec.namespaces[0]'],
    ['duplicate', 'a namespace twice', spec({ namespaces: ['acme-a', 'acme-a'] }), 'spec.namespaces[1]'],
    ['range', 'more than 32 namespaces', spec({ namespaces: Array.from({ length: 33 }, (_, i) => `ns-${i}`) }), 'spec.namespaces'],
    ['range', 'member role Owner', spec({ members: [{ kind: 'User', name: 'alice', role: 'Owner' }] }), 'spec.members[0].role'],
    ['range', 'member kind ServiceAccount', spec({ members: [{ kind: 'ServiceAccount', name: 'bot', role: 'Viewer' }] }), 'spec.members[0].kind'],
    ['required', 'member without a role', spec({ members: [{ kind: 'User', name: 'alice' }] }), 'spec.members[0].role'],
    ['range', 'member with an empty name', spec({ members: [{ kind: 'User', name: '', role: 'Viewer' }] }), 'spec.members[0].name'],
    ['duplicate', 'the same user twice', spec({ members: [{ kind: 'User', name: 'alice', role: 'Admin' }, { kind: 'User', name: 'alice', role: 'Viewer' }] }), 'spec.members[1]'],
    ['unknown', 'member with an email', spec({ members: [{ kind: 'User', name: 'alice', role: 'Admin', email: 'a@acme.example' }] }), 'spec.members[0].email'],
    ['conflict', 'no service profile and no custom SLA', spec({ allowedServiceProfiles: [], defaultServiceProfile: null }), 'spec.allowedServiceProfiles'],
    ['conflict', 'default profile not allowed', spec({ defaultServiceProfile: 'platinum' }), 'spec.defaultServiceProfile'],
    ['duplicate', 'a profile allowed twice', spec({ allowedServiceProfiles: ['gold', 'gold'] }), 'spec.allowedServiceProfiles[1]'],
    ['format', 'profile name with an underscore', spec({ allowedServiceProfiles: ['gold_plus'], defaultServiceProfile: null }), 'spec.allowedServiceProfiles[0]'],
    ['type', 'allowCustomSla a string', spec({ allowCustomSla: 'true' }), 'spec.allowCustomSla'],
    ['range', 'negative VPG quota', spec({ quotas: { maxVPGs: -1 } }), 'spec.quotas.maxVPGs'],
    ['type', 'VPG quota in words', spec({ quotas: { maxVPGs: 'ten' } }), 'spec.quotas.maxVPGs'],
    ['format', 'protected size quota in TB', spec({ quotas: { maxProtectedSize: '10TB' } }), 'spec.quotas.maxProtectedSize'],
    ['required', 'contact with neither email nor phone', spec({ contacts: [{ name: 'SRE' }] }), 'spec.contacts[0].email'],
    ['format', 'contact email without a domain', spec({ contacts: [{ name: 'SRE', email: 'sre' }] }), 'spec.contacts[0].email'],
    ['format', 'crmId with a space', spec({ crmId: 'ACME 1' }), 'spec.crmId'],
    ['unknown', 'misspelt quota', spec({ quota: { maxVPGs: 1 } }), 'spec.quota'],
  ]),
  ...immutable('Zorg', [
    ['crmId changed', {}, spec({ crmId: 'ACME-2' }), 'spec.crmId'],
    ['crmId removed', {}, spec({ crmId: null }), 'spec.crmId'],
  ]),
];
