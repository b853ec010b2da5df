import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../kube/objects.ts';
import { resolveTarget } from './directory.ts';
import { encodeRoutes, parseRoutes, routesConfigMapName, ROUTES_KEY, type Routes } from './routes.ts';

function vra(site: string, node: string, options: { ready?: boolean; ip?: string; deleting?: boolean; port?: number; role?: string } = {}): Pod {
  return {
    metadata: {
      name: `vra-${site}-${node}`, namespace: 'zcsp-system',
      labels: { 'zcsp.io/role': options.role ?? 'vra', 'zcsp.io/site': site, 'zcsp.io/node': node },
      annotations: { 'zcsp.io/site-name': site },
      ...(options.deleting === true && { deletionTimestamp: '2026-01-01T00:00:00Z' }),
    },
    spec: { nodeName: node, containers: [{ name: 'vra', ports: [{ name: 'vra', containerPort: options.port ?? 9440 }] }] },
    status: {
      phase: 'Running',
      ...(options.ip !== '' && { podIP: options.ip ?? `10.0.0.${node.length}` }),
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True' }],
    },
  };
}

const routes: Routes = { v: 1, zorg: 'acme', recoverySites: ['dr'] };

describe('resolveTarget', () => {
  it('finds the Ready VRA of an allowed site on the named node, at its vra port', () => {
    const pods = [vra('dr', 'dr-1', { ip: '10.1.0.5', port: 9555 }), vra('dr', 'dr-2'), vra('prod', 'prod-1')];
    assert.deepEqual(resolveTarget({ site: 'dr', node: 'dr-1' }, 'acme', routes, pods), { ok: true, host: '10.1.0.5', port: 9555, pod: 'vra-dr-dr-1' });
  });

  it('forbids sites that are not a recovery site of the tenant\'s VPGs, even with a VRA there', () => {
    const r = resolveTarget({ site: 'prod', node: 'prod-1' }, 'acme', routes, [vra('prod', 'prod-1')]);
    assert.deepEqual(r, { ok: false, code: 'Forbidden', reason: 'site "prod" is not a recovery site of a VPG of zorg "acme"' });
  });

  it('forbids everything when the routes are another tenant\'s', () => {
    const r = resolveTarget({ site: 'dr', node: 'dr-1' }, 'acme', { ...routes, zorg: 'globex' }, [vra('dr', 'dr-1')]);
    assert.deepEqual(r, { ok: false, code: 'Forbidden', reason: 'the routes are for zorg "globex", not "acme"' });
  });

  it('is unavailable without routes, without a VRA, or with one not Ready, deleting or without an IP', () => {
    const target = { site: 'dr', node: 'dr-1' };
    const unavailable = (pods: Pod[], r: Routes | null = routes): string => {
      const res = resolveTarget(target, 'acme', r ?? undefined, pods);
      return res.ok || res.code !== 'Unavailable' ? `not Unavailable: ${JSON.stringify(res)}` : res.reason;
    };
    assert.match(unavailable([vra('dr', 'dr-1')], null), /no routes/);
    assert.match(unavailable([]), /^no VRA of site "dr" on node "dr-1"$/);
    assert.match(unavailable([vra('dr', 'dr-2')]), /^no VRA/);
    assert.match(unavailable([vra('dr', 'dr-1', { ready: false })]), /^no Ready VRA/);
    assert.match(unavailable([vra('dr', 'dr-1', { ip: '' })]), /^no Ready VRA/);
    assert.match(unavailable([vra('dr', 'dr-1', { deleting: true })]), /^no VRA/);
    assert.match(unavailable([vra('dr', 'dr-1', { role: 'zcc' })]), /^no VRA/, 'only pods labelled as VRAs');
  });
});

describe('routes', () => {
  it('are canonical: sorted, without duplicates, the same text for the same policy', () => {
    assert.equal(encodeRoutes('acme', ['dr', 'b', 'dr']), '{"recoverySites":["b","dr"],"v":1,"zorg":"acme"}');
    assert.equal(encodeRoutes('acme', new Set(['b', 'dr'])), encodeRoutes('acme', ['dr', 'b']));
  });

  it('parse back, and anything unreadable routes nothing', () => {
    assert.deepEqual(parseRoutes({ data: { [ROUTES_KEY]: encodeRoutes('acme', ['dr']) } }), routes);
    assert.equal(parseRoutes(undefined), undefined);
    assert.equal(parseRoutes({ data: {} }), undefined);
    assert.equal(parseRoutes({ data: { [ROUTES_KEY]: '{' } }), undefined);
    assert.equal(parseRoutes({ data: { [ROUTES_KEY]: '{"v":2,"zorg":"acme","recoverySites":[]}' } }), undefined);
  });

  it('live in a ConfigMap named after the ZCC', () => {
    assert.equal(routesConfigMapName('acme'), 'zcc-acme-routes');
  });
});
