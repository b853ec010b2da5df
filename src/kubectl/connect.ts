// The kubeconfig, context and namespace, as kubectl would pick them. kubectl does not hand its
// own global flags to plugins, so --kubeconfig, --context and -n are the plugin's to read.
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, errorMessage } from '../runtime/index.ts';
import { VPGS } from '../controllers/resources.ts';
import { CommandError } from './errors.ts';
import type { VpgFeed } from './wait.ts';
import type { Vpg } from './vpg.ts';

export interface ConnectOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
}

export interface Connection {
  client: KubeClient;
  namespace: string;
}

/** The KubeConfig from --kubeconfig, else KUBECONFIG (a list, first current-context wins), else ~/.kube/config. */
export function loadKubeConfig(options: ConnectOptions): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (options.kubeconfig === undefined) kc.loadFromDefault(undefined, true);
    else kc.loadFromFile(options.kubeconfig);
  } catch (err: unknown) {
    throw new CommandError(`cannot load the kubeconfig${options.kubeconfig === undefined ? '' : ` ${options.kubeconfig}`}: ${errorMessage(err)}`);
  }
  if (options.context !== undefined) {
    if (kc.getContextObject(options.context) === null) throw new CommandError(`the kubeconfig has no context "${options.context}"`);
    kc.setCurrentContext(options.context);
  }
  return kc;
}

/** The namespace: -n, else the context's, else "default". */
export function namespaceOf(kc: KubeConfig, flag: string | undefined): string {
  if (flag !== undefined) return flag;
  const ns = kc.getContextObject(kc.getCurrentContext())?.namespace;
  return ns === undefined || ns === '' ? 'default' : ns;
}

export function connect(options: ConnectOptions): Connection {
  const kc = loadKubeConfig(options);
  if (kc.getCurrentCluster() === null) throw new CommandError('the kubeconfig has no current cluster (set one with kubectl config use-context, or pass --context)');
  return { client: new KubeClient(kc, { userAgent: 'kubectl-zcsp' }), namespace: namespaceOf(kc, options.namespace) };
}

/** The VPG's versions from the API server: a GET, and a watch on that one object. */
export function vpgFeed(client: KubeClient, namespace: string, name: string): VpgFeed {
  return {
    get: () => client.get(VPGS, name, namespace) as Promise<Vpg>,
    watch: (resourceVersion, onEvent, onDone) => client.watch(VPGS, {
      namespace, fieldSelector: `metadata.name=${name}`, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300,
    }, onEvent, onDone),
  };
}
