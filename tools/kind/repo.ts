// What the kind path's tests read from the repository, as the tools that use it would read it:
// kind-config.yaml, the examples, the chart rendered by the real helm, and the names up.sh uses
// (from the script itself). Errors name the file and the field.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1PodSpec } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { resolveBinaries } from '../../test/cluster/binaries.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
export const CHART = join(ROOT, 'deploy/helm/zcsp');
export const RELEASE_NAMESPACE = 'zcsp-system';

/** A document of a YAML file, and where it came from (`file#index`, for messages). */
export interface Doc {
  source: string;
  object: Record<string, unknown>;
}

export function yamlDocs(text: string, name: string): Doc[] {
  return parseAllDocuments(text).flatMap((d, i) => {
    if (d.errors.length > 0) throw new Error(`${name}#${i}: ${d.errors.map((e) => e.message).join('; ')}`);
    const object: unknown = d.toJS();
    if (object === null || object === undefined) return [];
    if (typeof object !== 'object' || Array.isArray(object)) throw new Error(`${name}#${i}: not a mapping`);
    return [{ source: `${name}#${i}`, object: object as Record<string, unknown> }];
  });
}

export function readYaml(rel: string): Doc[] {
  return yamlDocs(readFileSync(join(ROOT, rel), 'utf8'), rel);
}

/** Every document of examples/*.yaml. */
export function exampleDocs(): Doc[] {
  return readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) => readYaml(`examples/${f}`));
}

export const kindOf = (doc: Doc): string => String(doc.object['kind']);

const KindNode = z.object({
  role: z.enum(['control-plane', 'worker']),
  image: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  extraMounts: z.array(z.object({ hostPath: z.string(), containerPath: z.string() })).optional(),
});

const KindConfig = z.object({
  kind: z.literal('Cluster'),
  apiVersion: z.literal('kind.x-k8s.io/v1alpha4'),
  name: z.string(),
  nodes: z.array(KindNode).min(1),
});

export interface KindNode extends z.output<typeof KindNode> {
  /** The node's name as kind makes it: <cluster>-control-plane, <cluster>-worker, -worker2, … */
  name: string;
}

export interface KindConfig {
  name: string;
  nodes: KindNode[];
}

export function kindConfig(): KindConfig {
  const [doc, ...more] = readYaml('kind-config.yaml');
  if (doc === undefined || more.length > 0) throw new Error('kind-config.yaml: expected one document');
  const parsed = KindConfig.safeParse(doc.object);
  if (!parsed.success) {
    throw new Error(`kind-config.yaml: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const count = { 'control-plane': 0, worker: 0 };
  const nodes = parsed.data.nodes.map((n) => {
    const k = ++count[n.role];
    return { ...n, name: `${parsed.data.name}-${n.role}${k === 1 ? '' : String(k)}` };
  });
  return { name: parsed.data.name, nodes };
}

/** Whether a node's labels satisfy a nodeSelector (every pair must be there). */
export function selects(selector: Record<string, string>, node: KindNode): boolean {
  return Object.entries(selector).every(([k, v]) => node.labels?.[k] === v);
}

/** The pod specs of workload objects (Pods, Deployments, StatefulSets, DaemonSets, Jobs, CronJobs). */
export function podSpecs(docs: readonly Doc[]): { source: string; spec: V1PodSpec }[] {
  const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
  return docs.flatMap((doc) => {
    const kind = kindOf(doc);
    const spec = kind === 'Pod' ? at(doc.object, 'spec')
      : kind === 'CronJob' ? at(doc.object, 'spec', 'jobTemplate', 'spec', 'template', 'spec')
      : ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(kind) ? at(doc.object, 'spec', 'template', 'spec')
      : undefined;
    const name = String(at(doc.object, 'metadata', 'name'));
    return spec === undefined ? [] : [{ source: `${kind} ${name} (${doc.source})`, spec: spec as V1PodSpec }];
  });
}

export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

/** `helm template zcsp deploy/helm/zcsp -n zcsp-system <args>`, with the helm the tests use. */
export async function helmTemplate(args: readonly string[] = []): Promise<Doc[]> {
  const { helm } = await resolveBinaries();
  const out = await run(helm, ['template', 'zcsp', CHART, '--namespace', RELEASE_NAMESPACE, ...args]);
  if (out.code !== 0) throw new Error(`helm template ${args.join(' ')} failed (${String(out.code)}): ${out.stderr.trim()}`);
  return yamlDocs(out.stdout, 'helm template');
}

/** What `tools/kind/up.sh --print-config` prints: cluster, context, image, examples_image, state_dir. */
export async function upConfig(env: Record<string, string> = {}): Promise<Record<string, string>> {
  const out = await run('bash', [join(ROOT, 'tools/kind/up.sh'), '--print-config'], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/nonexistent', ...env } });
  if (out.code !== 0) throw new Error(`tools/kind/up.sh --print-config failed (${String(out.code)}): ${out.stderr.trim()}`);
  return Object.fromEntries(out.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}
