// Where a local cluster keeps its state. One folder per cluster; everything a simulated node
// would keep on its own disk lives under that node's root, so two nodes never share a host path.
import { join, posix } from 'node:path';

/** Root of a simulated node's filesystem: a hostPath "/x" on that node is `${nodeRoot}/x`. */
export function nodeRoot(clusterDir: string, nodeName: string): string {
  return join(clusterDir, 'nodes', nodeName, 'root');
}

/** Maps an absolute path as seen on a simulated node to the real path on this machine. */
export function nodePath(clusterDir: string, nodeName: string, path: string): string {
  if (!path.startsWith('/')) throw new Error(`node path must be absolute: "${path}"`);
  // As on a real machine, ".." at the root stays at the root: the result is always inside it.
  const clean = posix.normalize(path).replace(/\/+$/, '');
  return join(nodeRoot(clusterDir, nodeName), clean);
}

/** Per-node kubelet state: pod folders (volumes, tokens) and container logs. */
export function kubeletDir(clusterDir: string, nodeName: string): string {
  return join(clusterDir, 'nodes', nodeName, 'kubelet');
}

/** Logs of the control-plane processes. */
export function controlPlaneLogDir(clusterDir: string): string {
  return join(clusterDir, 'logs');
}

/** The admin kubeconfig a local cluster writes for people and tests. */
export function adminKubeconfigPath(clusterDir: string): string {
  return join(clusterDir, 'admin.kubeconfig');
}
