// `npm run demo`: starts the local cluster in the foreground and shows what it runs, refreshed in
// place, until Ctrl-C, which tears everything down. Builds the Kubernetes binaries first if they
// are missing (with progress). Later stages add the operator, the examples and VPG status.
import { CoreV1Api } from '@kubernetes/client-node';
import { startCluster } from '../../test/cluster/cluster.ts';
import { renderStatus } from './status-table.ts';

const out = process.stdout;
const log = (m: string): void => void out.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);

log('starting the local cluster (the first run builds the Kubernetes binaries: about 12 minutes on 2 cores)');
const cluster = await startCluster({ log });
const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
out.write(`\nkubectl alongside:  export KUBECONFIG=${cluster.kubeconfigPath}\n`);
out.write(`binaries:           ${cluster.binaries.kubectl}, ${cluster.binaries.helm}\n`);
out.write('Ctrl-C stops the cluster and removes everything.\n\n');

// Ctrl-C: the cluster's own handler tears everything down and exits; the view just stops.
// Read through a function: TypeScript cannot see the handler flip the flag between awaits.
let stopping = false;
const stopped = (): boolean => stopping;
process.once('SIGINT', () => {
  stopping = true;
  out.write('\nstopping the local cluster…\n');
});

let previous: string[] = [];
let previousShape = '';
while (!stopped()) {
  let lines: string[];
  let shape: string;
  try {
    const [nodes, pods] = await Promise.all([core.listNode(), core.listPodForAllNamespaces()]);
    lines = renderStatus(nodes.items, pods.items, new Date());
    // The same table with every age at zero: what changed apart from the clock.
    shape = renderStatus(nodes.items, pods.items, new Date(0)).join('\n');
  } catch (err: unknown) {
    if (stopped()) break;
    lines = [`cannot read the cluster: ${err instanceof Error ? err.message : String(err)}`];
    shape = lines.join('\n');
  }
  if (out.isTTY) {
    // Redraw in place: up over the previous table, clear to the end of the screen.
    if (previous.length > 0) out.write(`\x1b[${previous.length}A\x1b[0J`);
    out.write(lines.join('\n') + '\n');
    previous = lines;
  } else if (shape !== previousShape) {
    // Into a file or a pipe: a new table only when something other than the ages changed.
    out.write(lines.join('\n') + '\n\n');
    previousShape = shape;
  }
  await new Promise((r) => setTimeout(r, 2000));
}
