// The real helm binary against deploy/helm/zcsp: no cluster needed to lint or render. Values go in
// as a values file (on stdin) or as --set flags, the two ways users give them.
import { execFile } from 'node:child_process';
import { parseAllDocuments, stringify } from 'yaml';
import { resolveBinaries } from '../../cluster/binaries.ts';
import { CHART } from './chart-files.ts';

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

let helmPath: Promise<string> | undefined;

/** Runs helm; resolves whatever the exit code, so a test can expect a refusal. */
export async function runHelm(args: readonly string[], input?: string): Promise<HelmResult> {
  helmPath ??= resolveBinaries().then((b) => b.helm);
  const bin = await helmPath;
  return new Promise((resolve, reject) => {
    const child = execFile(bin, [...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') {
        reject(new Error(`helm ${args.join(' ')}: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

/** A Kubernetes object as helm renders it; the checks narrow it to client-node's types by kind. */
export interface Rendered {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

export interface TemplateOptions {
  release?: string;
  namespace?: string;
}

/** A values file as helm reads it: YAML 1.1, where an unquoted on, yes or y is a boolean. */
export const valuesFile = (values: unknown): string => stringify(values ?? {}, { version: '1.1' });

/** `helm template` with the values as a values file; throws with helm's message if it refuses. */
export async function renderChart(values: unknown, options: TemplateOptions = {}): Promise<Rendered[]> {
  const args = ['template', options.release ?? 'zcsp', CHART, '--namespace', options.namespace ?? 'zcsp-system', '-f', '-'];
  const result = await runHelm(args, valuesFile(values));
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return parseAllDocuments(result.stdout).map((d) => d.toJS() as Rendered | null).filter((o) => o !== null);
}

/** --set's path syntax: a dot between keys, `[i]` for list items; . , = [ inside a key escaped. */
const escapeKey = (key: string) => key.replace(/[.,=[\]\\]/g, (c) => `\\${c}`);

/** Strings --set would read as something else (a number, a boolean, null): they need --set-string. */
const retyped = (s: string) => /^(true|false|null|-?[1-9][0-9]*|0)$/.test(s);

/**
 * The --set, --set-string and --set-json flags that give these values: one flag per leaf, so the
 * types arrive as a values file would give them (--set would make 1.5 a string, "true" a boolean).
 */
export function setFlags(values: Record<string, unknown>): string[] {
  const flags: string[] = [];
  const walk = (path: string, value: unknown): void => {
    if (Array.isArray(value) && value.length > 0) {
      value.forEach((item, i) => walk(`${path}[${i}]`, item));
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(path === '' ? escapeKey(k) : `${path}.${escapeKey(k)}`, v);
    } else if (typeof value === 'string') {
      flags.push(retyped(value) ? '--set-string' : '--set', `${path}=${value.replace(/[,\\]/g, (c) => `\\${c}`)}`);
    } else if (value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value))) {
      flags.push('--set', `${path}=${String(value)}`);
    } else {
      flags.push('--set-json', `${path}=${JSON.stringify(value)}`);
    }
  };
  walk('', values);
  return flags;
}
