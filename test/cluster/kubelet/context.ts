// What every pod worker of one kubelet shares.
import type { Logger } from 'pino';
import type { Clients } from './api.ts';
import type { ProjectRuntime } from './command.ts';
import type { ConfigSource } from './config-source.ts';
import type { EventRecorder } from './events.ts';
import type { IpPool } from './ip-pool.ts';
import type { NodeAllocatable } from './quantity.ts';
import type { ServiceAccountTokens } from './tokens.ts';

export interface KubeletContext {
  nodeName: string;
  nodeIP: string;
  clusterId: string;
  clusterDir: string;
  kubeletDir: string;
  /** Folder with the `zcsp` and `node` wrappers, first on containers' PATH. */
  binDir: string;
  clients: Clients;
  ipPool: IpPool;
  project: ProjectRuntime;
  isProjectImage: (image: string) => boolean;
  /** CA bundle of the API server (ca.crt of the default service account volume). */
  caFile: string;
  serviceEnv: Readonly<Record<string, string>>;
  allocatable: NodeAllocatable;
  crashLoop: { initialMs: number; maxMs: number };
  tokens: ServiceAccountTokens;
  events: EventRecorder;
  configSource: ConfigSource;
  kubeletVersion: string;
  logger: Logger;
}

/** Pods whose containers the node replaces by a pause-like placeholder, whatever their image. */
export const PLACEHOLDER_ANNOTATION = 'sim.zcsp.io/placeholder';
