// Locates the control-plane binaries through tools/binaries/build.sh, the one place that knows
// their versions, cache keys and the KUBEBUILDER_ASSETS override.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BINARY_NAMES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'helm'] as const;
export type BinaryName = (typeof BINARY_NAMES)[number];
export type Binaries = Record<BinaryName, string>;

const buildScript = fileURLToPath(new URL('../../tools/binaries/build.sh', import.meta.url));

export interface ResolveOptions {
  /** Build what is missing (minutes on a cold cache) instead of failing. Default true. */
  build?: boolean;
  /** Where build progress goes; default stderr of this process. */
  progress?: NodeJS.WritableStream;
}

export async function resolveBinaries(options: ResolveOptions = {}): Promise<Binaries> {
  const args = options.build === false ? [buildScript, '--check'] : [buildScript];
  const child = spawn('bash', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    (options.progress ?? process.stderr).write(d);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new Error(
      code === 3
        ? `control-plane binaries are not built yet: run \`npm run binaries\` (${err.trim()})`
        : `tools/binaries/build.sh failed with exit code ${code}:\n${err.trim()}`,
    );
  }
  return parseBinaryList(out);
}

/** Parses build.sh's NAME=PATH lines; every binary must be named. */
export function parseBinaryList(text: string): Binaries {
  const found = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) found.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const missing = BINARY_NAMES.filter((n) => !found.has(n));
  if (missing.length > 0) throw new Error(`build.sh did not name: ${missing.join(', ')}`);
  return Object.fromEntries(BINARY_NAMES.map((n) => [n, found.get(n) ?? ''])) as Binaries;
}
