// The zcsp.io API against a real API server: the generated CRDs are accepted, the examples apply
// (and the API server defaults them as zod does), kubectl shows useful columns and explains every
// field, and every invalid manifest of the table is refused by the API server at the field the
// table names, with the same verdict as the controllers' zod parse.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, startCluster, type LocalCluster } from '../cluster/cluster.ts';
import { waitFor } from '../cluster/net.ts';
import { GROUP, VERSION, type Kind } from '../../src/crds/crd.ts';
import { KINDS } from '../../src/crds/kinds.ts';
import { fieldProblems } from '../../src/crds/parse.ts';
import { vpgKind } from '../../src/crds/vpg.ts';
import { toOpenApi, type OpenApiSchema } from '../../src/crds/openapi.ts';
import { BASES, INVALID_CASES, mergePatch, type InvalidCase, type Patch } from './crd-cases/index.ts';

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: unknown;
}

const kindOf = (name: string): Kind => {
  const kind = KINDS.find((k) => k.kind === name);
  if (kind === undefined) throw new Error(`no kind ${name}`);
  return kind;
};

async function examples(): Promise<Manifest[]> {
  const dir = join(REPO_ROOT, 'examples');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const docs = await Promise.all(files.map(async (f) => parseAllDocuments(await readFile(join(dir, f), 'utf8'))));
  return docs.flat().map((d) => d.toJS() as Manifest);
}

/** The message of the API server's refusal, or undefined when it accepted the request. */
async function refusal(request: Promise<unknown>): Promise<string | undefined> {
  try {
    await request;
    return undefined;
  } catch (err: unknown) {
    const e = err as { code?: number; body?: unknown };
    if (e.code !== 422 && e.code !== 400) throw err;
    const status = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { message?: string };
    return status.message ?? '';
  }
}

/** Runs fn over items with at most `width` at a time. */
async function inBatches<T, R>(items: readonly T[], width: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += width) {
    results.push(...await Promise.all(items.slice(i, i + width).map((item, j) => fn(item, i + j))));
  }
  return results;
}

describe('zcsp.io/v1alpha1 CRDs on a real API server', { timeout: 300_000 }, () => {
  let cluster: LocalCluster;
  let custom: CustomObjectsApi;

  before(async () => {
    const t0 = Date.now();
    cluster = await startCluster({ kubelets: false });
    custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy/crds')]);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...KINDS.map((k) => `crd/${k.plural}.${GROUP}`)]);
    const namespaces = new Set([...(await examples()), ...Object.values(BASES) as unknown as Manifest[]]
      .map((m) => m.metadata.namespace).filter((ns) => ns !== undefined));
    await Promise.all([...namespaces].map((ns) => cluster.kubectl(['create', 'namespace', ns])));
    process.stdout.write(`# control plane with the zcsp.io CRDs ready in ${Date.now() - t0} ms\n`);
  });

  after(async () => {
    await cluster.stop();
  });

  it('applies every example, and the API server defaults them as zod does', async () => {
    await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'examples')]);
    for (const example of await examples()) {
      const kind = KINDS.find((k) => k.kind === example.kind);
      if (kind === undefined) continue;
      const ns = example.metadata.namespace === undefined ? [] : ['-n', example.metadata.namespace];
      const stored = JSON.parse(await cluster.kubectl(['get', `${kind.plural}.${GROUP}`, example.metadata.name, ...ns, '-o', 'json'])) as Manifest;
      const parsed = kind.schema.parse(example);
      assert.deepEqual(stored.spec, parsed.spec, `${example.kind} ${example.metadata.name}: API server defaults differ from zod's`);
    }
  });

  it('lists all five kinds under the zcsp category', async () => {
    const out = await cluster.kubectl(['get', 'zcsp', '-A', '-o', 'name']);
    for (const kind of KINDS) assert.match(out, new RegExp(`^${kind.singular}\\.${GROUP}/`, 'm'), `${kind.kind} missing from kubectl get zcsp`);
  });

  it('shows phase, substatus, RPO, history, journal and age in kubectl get vpg', async () => {
    const status = vpgKind.status.parse({
      observedGeneration: 1,
      phase: 'MeetingSLA',
      rpoSeconds: 7,
      journal: { actualHistorySeconds: 86100, actualHistory: '23h55m', configuredHistorySeconds: 86400, used: '3Gi', limit: '10Gi' },
      checkpoints: { count: 17220, latest: { id: 'cp-17220', time: '2026-01-02T03:04:05Z' } },
      conditions: [{ type: 'Ready', status: 'True', reason: 'MeetingSLA', message: 'RPO 7s', lastTransitionTime: '2026-01-02T03:00:00Z', observedGeneration: 1 }],
    });
    await custom.patchNamespacedCustomObjectStatus({
      group: GROUP, version: VERSION, namespace: 'acme-prod', plural: 'vpgs', name: 'web', body: { status }, fieldValidation: 'Strict',
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const [header = '', row = ''] = (await cluster.kubectl(['get', 'vpg', '-n', 'acme-prod'])).trim().split('\n');
    assert.deepEqual(header.split(/\s+/), ['NAME', 'PHASE', 'SUBSTATUS', 'RPO(S)', 'HISTORY', 'JOURNAL', 'AGE']);
    // No substatus while meeting the SLA: kubectl leaves the cell empty.
    assert.match(row, /^web\s+MeetingSLA\s+7\s+23h55m\s+3Gi\s+\d+s$/);
    const wide = (await cluster.kubectl(['get', 'vpg', '-n', 'acme-prod', '-o', 'wide'])).split('\n')[0] ?? '';
    assert.deepEqual(wide.trim().split(/\s+/),
      ['NAME', 'PHASE', 'SUBSTATUS', 'RPO(S)', 'HISTORY', 'JOURNAL', 'LIMIT', 'PROTECTED', 'RECOVERY', 'OPERATION', 'AGE']);
  });

  it('describes every field of vpg.spec, at every depth, in kubectl explain', async () => {
    const spec = toOpenApi(vpgKind.spec);
    const objects: { path: string; schema: OpenApiSchema }[] = [];
    const walk = (path: string, schema: OpenApiSchema): void => {
      const items = schema['items'] as OpenApiSchema | undefined;
      const node = items ?? schema;
      const properties = node['properties'] as Record<string, OpenApiSchema> | undefined;
      if (properties === undefined) return;
      objects.push({ path, schema: node });
      for (const [name, child] of Object.entries(properties)) walk(`${path}.${name}`, child);
    };
    walk('vpg.spec', spec);
    // The API server publishes a new CRD's OpenAPI a moment after it is Established.
    await waitFor(async () => (await cluster.kubectl(['explain', 'vpg.spec']).catch(() => '')).includes('protectedSite'),
      { what: 'kubectl explain vpg.spec', timeoutMs: 30_000, intervalMs: 250 });
    const flat = (s: string): string => s.replace(/\s+/g, ' ');
    await inBatches(objects, 8, async ({ path, schema }) => {
      const out = flat(await cluster.kubectl(['explain', path]));
      for (const [name, child] of Object.entries(schema['properties'] as Record<string, OpenApiSchema>)) {
        assert.ok(out.includes(` ${name} <`), `kubectl explain ${path} lists ${name}`);
        assert.ok(out.includes(flat(String(child['description']))), `kubectl explain ${path} describes ${name}`);
      }
    });
    assert.ok(objects.length > 15, `walked ${objects.length} objects of vpg.spec`);
  });

  describe(`refuses ${INVALID_CASES.length} invalid manifests at the named field, as zod does`, () => {
    const verdicts = new Map<InvalidCase, string | undefined>();

    before(async () => {
      const t0 = Date.now();
      await inBatches(INVALID_CASES, 16, async (c, i) => {
        const kind = kindOf(c.kind);
        const base = BASES[c.kind];
        const name = `case-${i}`;
        const metadata: Patch = { ...(base['metadata'] as Patch), name };
        const namespace = metadata['namespace'] as string | undefined;
        const at = { group: GROUP, version: VERSION, plural: kind.plural, fieldValidation: 'Strict' };
        const create = (body: unknown): Promise<unknown> => namespace === undefined
          ? custom.createClusterCustomObject({ ...at, body })
          : custom.createNamespacedCustomObject({ ...at, namespace, body });
        if (c.before === undefined) {
          verdicts.set(c, await refusal(create(mergePatch({ ...base, metadata }, c.patch))));
          return;
        }
        await create(mergePatch({ ...base, metadata }, c.before));
        const patch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
        verdicts.set(c, await refusal(namespace === undefined
          ? custom.patchClusterCustomObject({ ...at, name, body: c.patch }, patch)
          : custom.patchNamespacedCustomObject({ ...at, namespace, name, body: c.patch }, patch)));
      });
      const counts = Object.entries(Object.groupBy(INVALID_CASES, (c) => c.category)).map(([k, v]) => `${k} ${v.length}`);
      process.stdout.write(`# ${INVALID_CASES.length} invalid manifests (${counts.join(', ')}) sent in ${Date.now() - t0} ms\n`);
    });

    it('has at least 100 cases, of every category', () => {
      assert.ok(INVALID_CASES.length >= 100);
      const categories = new Set(INVALID_CASES.map((c) => c.category));
      for (const c of ['type', 'range', 'format', 'required', 'unknown', 'duplicate', 'conflict', 'immutable'] as const) assert.ok(categories.has(c), c);
    });

    for (const c of INVALID_CASES) {
      it(`${c.kind}: ${c.what} → ${c.field}${c.zod === 'accepts' ? ' (transition rule: API server only)' : ''}`, () => {
        const message = verdicts.get(c);
        assert.ok(message !== undefined, 'the API server accepted it');
        // The API server names the field as `field: …`, or `unknown field "field"` for unknown fields.
        assert.ok(message.includes(`${c.field}:`) || message.includes(`"${c.field}"`), `the API server's message names ${c.field}: ${message}`);
        const object = mergePatch(mergePatch(BASES[c.kind], c.before ?? {}), c.patch);
        const parsed = kindOf(c.kind).schema.safeParse(object);
        if (c.zod === 'accepts') {
          assert.ok(parsed.success, 'zod accepts the new object on its own: only the API server sees the old one');
          return;
        }
        assert.ok(!parsed.success, 'zod accepted it');
        const fields = fieldProblems(parsed.error).map((p) => p.field);
        assert.ok(fields.includes(c.field), `zod names ${c.field}; it named ${fields.join(', ')}`);
      });
    }
  });
});
