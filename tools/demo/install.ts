// What `npm run demo` does to a fresh cluster, step by step: `helm install` the operator, then
// apply examples/ in the order their objects need, waiting after each step for what the next one
// needs. Each step logs one line when it starts and one when it is done; a step that does not
// come up fails with an InstallError naming what did not and the kubectl commands to look with.
// Reusable: test/e2e/demo.test.ts runs the same steps against a cluster of its own.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { REPO_ROOT, type LocalCluster } from '../../test/cluster/cluster.ts';

export const CHART = join(REPO_ROOT, 'deploy/helm/zcsp');
export const EXAMPLES = join(REPO_ROOT, 'examples');
export const NAMESPACE = 'zcsp-system';
const MANAGERS = 'app.kubernetes.io/component=manager';

/** What the steps use of a local cluster. */
export type InstallTarget = Pick<LocalCluster, 'helm' | 'kubectl' | 'kubeConfig' | 'kubeconfigPath'>;

export interface InstallOptions {
  log?: (message: string) => void;
  /** How long each step may take to come up; default 180 s (a loaded 2-core machine). */
  timeoutMs?: number;
  /** How often a long wait says what it still waits for; default every 20 s. */
  progressMs?: number;
  /** More `helm install` arguments, e.g. ['--set', 'replicaCount=1']. */
  helmArgs?: readonly string[];
}

/** A step that did not come up: what, what was last seen, and where to look. */
export class InstallError extends Error {
  readonly look: readonly string[];
  constructor(what: string, detail: string, look: readonly string[], kubeconfigPath: string, options?: ErrorOptions) {
    const commands = [`export KUBECONFIG=${kubeconfigPath}`, ...look];
    super(`${what}: ${detail}\nto look, in another shell:\n${commands.map((c) => `  ${c}`).join('\n')}`, options);
    this.name = 'InstallError';
    this.look = look;
  }
}

/** The examples in the order they are applied, with what each brings. */
export const EXAMPLE_STEPS = [
  { file: '01-sites.yaml', what: 'Sites prod and dr: a VRA on each of their nodes' },
  { file: '02-service-profile.yaml', what: 'ServiceProfile gold: the SLA VPGs are held to' },
  { file: '03-zorg.yaml', what: 'Zorg acme: the tenant, with namespaces acme-prod, acme-dr, acme-test' },
  { file: '04-zcc.yaml', what: 'ZCC acme: the tenant\'s connector in zcsp-system' },
  // Both need the tenant's namespaces, which the Zorg makes: applied once it is Ready.
  { file: '05-tenant-app.yaml', what: 'the tenant\'s app: claim app-data and Deployment web in acme-prod' },
  { file: '06-vpg.yaml', what: 'VPG web: protects app-data from prod to dr under gold' },
] as const;

/** Every file of examples/, so that a new example is not silently left out of the demo. */
export function exampleFiles(): string[] {
  return readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();
}

interface Condition { type: string; status: string; reason?: string; message?: string }
interface Conditioned { status?: { conditions?: Condition[] } }

/** True when Ready, else what the Ready condition says. */
function readiness(obj: Conditioned): true | string {
  const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready === undefined) return 'no Ready condition yet';
  if (ready.status === 'True') return true;
  return `Ready=${ready.status}${ready.reason === undefined ? '' : ` ${ready.reason}`}${ready.message === undefined ? '' : `: ${ready.message}`}`;
}

const seconds = (since: number): string => `${Math.round((Date.now() - since) / 1000)}s`;
const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Installer {
  readonly #cluster: InstallTarget;
  readonly #log: (message: string) => void;
  readonly #timeoutMs: number;
  readonly #progressMs: number;
  readonly #helmArgs: readonly string[];
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;

  constructor(cluster: InstallTarget, options: InstallOptions = {}) {
    this.#cluster = cluster;
    this.#log = options.log ?? (() => undefined);
    this.#timeoutMs = options.timeoutMs ?? 180_000;
    this.#progressMs = options.progressMs ?? 20_000;
    this.#helmArgs = options.helmArgs ?? [];
    this.#core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    this.#custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /** The operator and, unless told otherwise, every example. */
  async run(options: { examples?: boolean } = {}): Promise<void> {
    await this.installOperator();
    if (options.examples !== false) await this.applyExamples();
  }

  /** `helm install`, then until a manager leads. */
  async installOperator(): Promise<void> {
    const started = Date.now();
    const look = [
      `kubectl -n ${NAMESPACE} get pods`,
      `kubectl -n ${NAMESPACE} describe pods -l ${MANAGERS}`,
      `kubectl -n ${NAMESPACE} logs -l ${MANAGERS} --prefix --tail=30`,
    ];
    this.#log(`helm install zcsp deploy/helm/zcsp -n ${NAMESPACE} --create-namespace --wait: the CRDs, RBAC and the operator's manager pods`);
    const managers = async (): Promise<string> => {
      const pods = (await this.#core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: MANAGERS })).items;
      const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true);
      return `${ready.length}/${pods.length} manager pods Ready`;
    };
    const helm = this.#cluster.helm(['install', 'zcsp', CHART, '--namespace', NAMESPACE, '--create-namespace',
      '--wait', '--timeout', `${Math.round(this.#timeoutMs / 1000)}s`, ...this.#helmArgs]);
    // helm says nothing while it waits: say how far the pods are.
    let done = false;
    const timer = setInterval(() => {
      void managers().catch(message).then((state) => {
        if (!done) this.#log(`  still installing (${seconds(started)}): ${state}`);
      });
    }, this.#progressMs);
    try {
      await helm;
    } catch (err: unknown) {
      throw new InstallError('helm install zcsp failed', `${message(err)} (${await managers().catch(message)})`, look, this.#cluster.kubeconfigPath, { cause: err });
    } finally {
      done = true;
      clearInterval(timer);
    }
    const coordination = this.#cluster.kubeConfig.makeApiClient(CoordinationV1Api);
    let leader = '';
    await this.#waitFor('a leading manager (the Lease zcsp-manager)', look, async () => {
      leader = (await coordination.readNamespacedLease({ name: 'zcsp-manager', namespace: NAMESPACE })).spec?.holderIdentity ?? '';
      return leader === '' ? 'the Lease has no holder' : true;
    });
    this.#log(`operator up: ${await managers()}, ${leader} leads (${seconds(started)})`);
  }

  /** examples/01..06, each step waiting for what the next needs. */
  async applyExamples(): Promise<void> {
    const files = exampleFiles();
    const steps = EXAMPLE_STEPS.map((s) => s.file);
    const unknown = files.filter((f) => !(steps as readonly string[]).includes(f));
    if (unknown.length > 0) this.#log(`note: the demo does not apply ${unknown.map((f) => `examples/${f}`).join(', ')}`);
    const started = Date.now();
    const [provider, tenant] = [EXAMPLE_STEPS.slice(0, 4), EXAMPLE_STEPS.slice(4)];
    for (const step of provider) await this.#apply(step);
    const logs = `kubectl -n ${NAMESPACE} logs -l ${MANAGERS} --prefix --tail=30`;

    this.#log('waiting for Zorg acme to be Ready: it creates the tenant\'s namespaces, roles and quota');
    await this.#waitFor('Zorg acme Ready', ['kubectl describe zorg acme', logs],
      async () => readiness(await this.#custom.getClusterCustomObject({ ...zcsp('zorgs'), name: 'acme' }) as Conditioned));
    this.#log(`Zorg acme Ready: namespaces acme-prod, acme-dr, acme-test (${seconds(started)})`);

    for (const step of tenant) await this.#apply(step);

    this.#log('waiting for Sites prod and dr to be Ready: a VRA on each of their four nodes');
    await this.#waitFor('Sites prod and dr Ready', ['kubectl get sites', 'kubectl describe sites', `kubectl -n ${NAMESPACE} get pods -l zcsp.io/role=vra -o wide`, logs],
      async () => {
        for (const name of ['prod', 'dr']) {
          const r = readiness(await this.#custom.getClusterCustomObject({ ...zcsp('sites'), name }) as Conditioned);
          if (r !== true) return `Site ${name}: ${r}`;
        }
        return true;
      });
    this.#log(`Sites prod and dr Ready (${seconds(started)})`);

    await this.#waitFor('ZCC acme Ready', [`kubectl -n ${NAMESPACE} describe zcc acme`, `kubectl -n ${NAMESPACE} get pods -l app.kubernetes.io/component=zcc`, logs],
      async () => readiness(await this.#custom.getNamespacedCustomObject({ ...zcsp('zccs'), namespace: NAMESPACE, name: 'acme' }) as Conditioned));
    this.#log(`ZCC acme Ready: the tenant's connector runs (${seconds(started)})`);

    const apps = this.#cluster.kubeConfig.makeApiClient(AppsV1Api);
    await this.#waitFor('Deployment web available in acme-prod', ['kubectl -n acme-prod get deploy,pods,pvc', 'kubectl -n acme-prod describe pods -l app=web'],
      async () => {
        const d = await apps.readNamespacedDeployment({ namespace: 'acme-prod', name: 'web' });
        return (d.status?.availableReplicas ?? 0) >= 1 ? true : `${d.status?.availableReplicas ?? 0}/${d.spec?.replicas ?? 1} available`;
      });
    this.#log(`the tenant's app runs: Deployment web in acme-prod, on its provisioned volume (${seconds(started)})`);

    await this.#waitFor('VPG acme-prod/web', ['kubectl -n acme-prod get vpg web -o yaml'], async () => {
      await this.#custom.getNamespacedCustomObject({ ...zcsp('vpgs'), namespace: 'acme-prod', name: 'web' });
      return true;
    });
    this.#log(`examples applied (${seconds(started)}); VPG acme-prod/web is the operator's from here`);
  }

  async #apply(step: (typeof EXAMPLE_STEPS)[number]): Promise<void> {
    this.#log(`kubectl apply -f examples/${step.file}: ${step.what}`);
    // Right after the CRDs are installed, discovery may lag a moment: retry briefly.
    await this.#waitFor(`kubectl apply -f examples/${step.file}`, [`kubectl apply -f ${join(EXAMPLES, step.file)}`, 'kubectl api-resources --api-group=zcsp.io'],
      async () => {
        await this.#cluster.kubectl(['apply', '-f', join(EXAMPLES, step.file)]);
        return true;
      }, 30_000);
  }

  /** Polls until check() is true; says every progressMs what it still waits for. */
  async #waitFor(what: string, look: readonly string[], check: () => Promise<true | string>, timeoutMs = this.#timeoutMs): Promise<void> {
    const started = Date.now();
    let lastSaid = started;
    let state: string;
    for (;;) {
      try {
        const r = await check();
        if (r === true) return;
        state = r;
      } catch (err: unknown) {
        state = message(err).split('\n')[0] ?? '';
      }
      if (Date.now() - started > timeoutMs) {
        throw new InstallError(`${what}: not there after ${Math.round(timeoutMs / 1000)} s`, `last seen: ${state}`, look, this.#cluster.kubeconfigPath);
      }
      if (Date.now() - lastSaid >= this.#progressMs) {
        this.#log(`  still waiting for ${what} (${seconds(started)}): ${state}`);
        lastSaid = Date.now();
      }
      await sleep(1000);
    }
  }
}

function zcsp(plural: string): { group: string; version: string; plural: string } {
  return { group: 'zcsp.io', version: 'v1alpha1', plural };
}
