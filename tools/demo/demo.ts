// `npm run demo`: the main job. Builds the Kubernetes binaries if they are missing, starts the
// local cluster (two sites of two simulated nodes), installs the operator with helm, applies
// examples/ step by step (install.ts), then shows live status (status-table.ts) until Ctrl-C,
// which tears everything down. `npm run demo -- --help` lists the options (args.ts).
import { dirname, join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { resolveBinaries, type Binaries } from '../../test/cluster/binaries.ts';
import { REPO_ROOT, startCluster, type LocalCluster } from '../../test/cluster/cluster.ts';
import { parseDemoArgs, UsageError, type DemoArgs } from './args.ts';
import { Installer } from './install.ts';
import { fitScreen, renderDemo, type SiteView, type Snapshot, type VpgView, type ZccView } from './status-table.ts';

const out = process.stdout;
const tty = out.isTTY;
const clock = (): string => new Date().toISOString().slice(11, 19);
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Messages that arrive while the view redraws in place go under it instead of through it.
let viewing = false;
const notes: string[] = [];
const log = (m: string): void => {
  if (!viewing || !tty) {
    out.write(`${clock()} ${m}\n`);
    return;
  }
  notes.push(`${clock()} ${m}`);
  notes.splice(0, Math.max(0, notes.length - 3));
};

// Ctrl-C (or SIGTERM, SIGHUP): the cluster's own handlers stop it and exit the process; the view
// only stops drawing. Read through a function: TypeScript cannot see a handler flip the flag.
let stopping = false;
const stopped = (): boolean => stopping;

async function binaries(): Promise<Binaries> {
  try {
    return await resolveBinaries({ build: false });
  } catch {
    log('building the Kubernetes binaries (etcd, kube-apiserver, …, kubectl, helm) from source:');
    log('the first run only, about 12 minutes on 2 cores; cached in ~/.cache/zcsp afterwards');
    return resolveBinaries({ build: true, progress: out });
  }
}

function onStop(cluster: LocalCluster): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      if (tty) out.write('\x1b[?25h');
      out.write(`\n${clock()} stopping the local cluster…\n`);
      // Settles before the cluster's handler exits the process (it awaits the same stop()).
      cluster.stop().then(
        () => out.write(`${clock()} local cluster stopped: nothing of it is left running\n`),
        (err: unknown) => out.write(`${clock()} ✖ ${message(err)}\n`),
      );
    });
  }
  process.once('exit', () => {
    if (tty) out.write('\x1b[?25h');
  });
}

function kubectlHints(cluster: LocalCluster, args: DemoArgs): string[] {
  const examples = args.examples
    ? [
      'kubectl get vpg -A', 'kubectl get zcsp -A', 'kubectl wait --for=condition=MeetingSLA vpg/web -n acme-prod --timeout=5m',
      'kubectl zcsp status web -n acme-prod', 'kubectl zcsp test web -n acme-prod        # a failover test into acme-test', 'kubectl zcsp stop-test web -n acme-prod',
    ]
    : ['kubectl get pods -A', 'kubectl apply -f examples/01-sites.yaml -f examples/02-service-profile.yaml -f examples/03-zorg.yaml -f examples/04-zcc.yaml', 'kubectl get zcsp -A'];
  return [
    'use kubectl alongside, in another shell:',
    // kubectl zcsp (bin/) runs on the Node that runs this demo.
    `  export KUBECONFIG=${cluster.kubeconfigPath} PATH=${dirname(cluster.binaries.kubectl)}:${join(REPO_ROOT, 'bin')}:${dirname(process.execPath)}:$PATH`,
    ...examples.map((e) => `  ${e}`),
    'Ctrl-C stops the cluster and removes everything.',
  ];
}

async function snapshot(cluster: LocalCluster): Promise<Snapshot> {
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  const list = async (plural: string): Promise<unknown[]> => {
    try {
      return ((await custom.listClusterCustomObject({ group: 'zcsp.io', version: 'v1alpha1', plural })) as { items?: unknown[] }).items ?? [];
    } catch (err: unknown) {
      // Before the chart has installed the CRDs: nothing of that kind yet.
      if (typeof err === 'object' && err !== null && 'code' in err && err.code === 404) return [];
      throw err;
    }
  };
  const [vpgs, sites, zccs, nodes, pods] = await Promise.all([
    list('vpgs'), list('sites'), list('zccs'), core.listNode(), core.listPodForAllNamespaces(),
  ]);
  return { vpgs: vpgs as VpgView[], sites: sites as SiteView[], zccs: zccs as ZccView[], nodes: nodes.items, pods: pods.items };
}

/** Redraws in place on a terminal; into a file or pipe, a new table only when something happened. */
async function view(cluster: LocalCluster): Promise<void> {
  viewing = true;
  if (tty) out.write('\x1b[?25l');
  let drawn = 0;
  let previousShape = '';
  let previousFull = '';
  let printedAt = 0;
  while (!stopped()) {
    let lines: string[];
    let shape: string;
    let full: string;
    try {
      const s = await snapshot(cluster);
      lines = renderDemo(s, new Date());
      // The same view with every age at zero: what changed apart from the clock; and without the
      // figures that move on their own (RPO, journal), whose changes print at most once a minute.
      full = renderDemo(s, new Date(0)).join('\n');
      shape = renderDemo(s, new Date(0), { figures: false }).join('\n');
    } catch (err: unknown) {
      if (stopped()) break;
      lines = [`cannot read the cluster: ${message(err)}`];
      shape = full = lines.join('\n');
    }
    if (stopped()) break;
    if (tty) {
      const screen = fitScreen([`zcsp demo  ${clock()}  (Ctrl-C stops it)`, '', ...lines, ...(notes.length > 0 ? ['', ...notes] : [])], out.rows, out.columns);
      out.write(`${drawn > 0 ? `\r\x1b[${drawn}A\x1b[0J` : ''}${screen.join('\n')}\n`);
      drawn = screen.length;
    } else if (shape !== previousShape || (full !== previousFull && Date.now() - printedAt >= 60_000)) {
      out.write(`--- ${clock()} ---\n${lines.join('\n')}\n\n`);
      previousShape = shape;
      previousFull = full;
      printedAt = Date.now();
    }
    await sleep(2000);
  }
}

async function main(): Promise<number> {
  let args: DemoArgs;
  try {
    args = parseDemoArgs(process.argv.slice(2));
  } catch (err: unknown) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(err.message);
    return 2;
  }
  if (args.help) {
    out.write((await import('./args.ts')).USAGE);
    return 0;
  }

  const bins = await binaries();
  log('starting the local cluster: a control plane, nodes prod-1, prod-2 (site prod) and dr-1, dr-2 (site dr)');
  const cluster = await startCluster({ log, binaries: bins });
  onStop(cluster);
  log(`local cluster up; kubectl alongside: export KUBECONFIG=${cluster.kubeconfigPath}`);

  try {
    await new Installer(cluster, { log }).run({ examples: args.examples });
    log(args.examples ? 'all set: the operator runs and the examples are applied' : 'all set: the operator runs (--no-examples: apply examples/ yourself)');
  } catch (err: unknown) {
    if (stopped()) return 130;
    out.write(`\n${clock()} ✖ ${message(err)}\n`);
    out.write('the cluster stays up so you can look; the status below keeps refreshing.\n');
  }
  out.write(`\n${kubectlHints(cluster, args).join('\n')}\n\n`);
  await view(cluster);
  return 130;
}

try {
  const code = await main();
  // After Ctrl-C the cluster's handler sets the exit code when it exits; otherwise ours.
  if (!stopped()) process.exitCode = code;
} catch (err: unknown) {
  if (!stopped()) {
    process.stderr.write(`✖ ${message(err)}\n`);
    process.exitCode = 1;
  }
}
