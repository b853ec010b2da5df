import { KubeConfig } from '@kubernetes/client-node';
import { configFromEnv } from '../controllers/config.ts';
import { operatorControllers } from '../controllers/index.ts';
import { Manager, createLogger } from '../runtime/index.ts';
import type { ManagerFlags } from './options.ts';

/** The Lease the replicas of one installation compete for, in the provider namespace. */
export const LEADER_LEASE_NAME = 'zcsp-manager';

/** Runs the operator until SIGTERM/SIGINT; resolves to the exit code. */
export async function runManager(flags: ManagerFlags): Promise<number> {
  const config = configFromEnv();
  const log = createLogger({ level: flags.logLevel });
  const kubeConfig = new KubeConfig();
  // KUBECONFIG or ~/.kube/config when run by hand; the pod's service account in a cluster.
  kubeConfig.loadFromDefault();
  const manager = new Manager({
    kubeConfig,
    logger: log,
    http: { port: flags.httpPort },
    leaderElection: flags.leaderElect
      ? {
          namespace: config.namespace, name: LEADER_LEASE_NAME,
          leaseDurationMs: flags.leaseDurationMs, renewDeadlineMs: flags.renewDeadlineMs, retryPeriodMs: flags.retryPeriodMs,
        }
      : false,
  });
  for (const controller of operatorControllers(config)) manager.add({ ...controller, workers: flags.workers });
  const stopped = manager.stopOnSignals();
  await manager.start();
  log.info({ namespace: config.namespace, identity: manager.identity, leaderElect: flags.leaderElect }, 'manager started');
  return stopped;
}
