// Command lines of the control-plane components, as envtest and kubeadm run them, cut down to a
// single loopback machine. Pure functions: what each process gets is visible in one place.
import { join } from 'node:path';
import type { Pki } from './pki.ts';

export const SERVICE_CIDR = '10.0.0.0/24';
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface EtcdConfig {
  dataDir: string;
  clientPort: number;
}

export function etcdArgs(c: EtcdConfig): string[] {
  const client = `http://127.0.0.1:${c.clientPort}`;
  return [
    '--name=zcsp-local',
    `--data-dir=${c.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    // The peer port is never used by a single member; port 0 avoids a clash with anything.
    '--listen-peer-urls=http://127.0.0.1:0',
    '--initial-advertise-peer-urls=http://127.0.0.1:2380',
    '--initial-cluster=zcsp-local=http://127.0.0.1:2380',
    // Tests throw the data away: skipping fsync makes the control plane several times faster.
    '--unsafe-no-fsync=true',
    '--quota-backend-bytes=4294967296',
    '--log-level=warn',
  ];
}

export interface ApiServerConfig {
  pki: Pki;
  etcdPort: number;
  securePort: number;
  certDir: string;
}

export function apiServerArgs(c: ApiServerConfig): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${c.etcdPort}`,
    `--secure-port=${c.securePort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    // Endpoints may not point into 127/8, and nothing routes Service IPs here anyway.
    '--endpoint-reconciler-type=none',
    `--cert-dir=${c.certDir}`,
    `--tls-cert-file=${c.pki.serving.certFile}`,
    `--tls-private-key-file=${c.pki.serving.keyFile}`,
    `--client-ca-file=${c.pki.ca.certFile}`,
    // Towards kubelets (exec): their serving certificates are checked, and they check ours.
    `--kubelet-client-certificate=${c.pki.kubeletClient.certFile}`,
    `--kubelet-client-key=${c.pki.kubeletClient.keyFile}`,
    `--kubelet-certificate-authority=${c.pki.ca.certFile}`,
    '--kubelet-preferred-address-types=InternalIP',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--allow-privileged=true',
    '--authorization-mode=RBAC',
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${c.pki.serviceAccountKey.publicFile}`,
    `--service-account-signing-key-file=${c.pki.serviceAccountKey.privateFile}`,
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    '--v=1',
  ];
}

export interface ManagerConfig {
  pki: Pki;
  kubeconfig: string;
  securePort: number;
  certDir: string;
}

/** Flags both kube-controller-manager and kube-scheduler take for their own serving and auth. */
function commonManagerArgs(c: ManagerConfig): string[] {
  return [
    `--kubeconfig=${c.kubeconfig}`,
    `--authentication-kubeconfig=${c.kubeconfig}`,
    `--authorization-kubeconfig=${c.kubeconfig}`,
    `--secure-port=${c.securePort}`,
    '--bind-address=127.0.0.1',
    `--cert-dir=${c.certDir}`,
    '--leader-elect=false',
    '--profiling=false',
    '--v=1',
  ];
}

export function controllerManagerArgs(c: ManagerConfig & { clusterSigning: boolean }): string[] {
  return [
    ...commonManagerArgs(c),
    // Every controller a real cluster runs (namespace deletion, GC, PV binding, ReplicaSets…),
    // each under its own service account as kubeadm sets it up.
    '--controllers=*',
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${c.pki.serviceAccountKey.privateFile}`,
    `--root-ca-file=${c.pki.ca.certFile}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    ...(c.clusterSigning ? [`--cluster-signing-cert-file=${c.pki.ca.certFile}`, `--cluster-signing-key-file=${c.pki.ca.keyFile}`] : []),
    // Quick reactions keep tests short; the node lifecycle defaults (50 s grace) stay as they are.
    '--concurrent-gc-syncs=5',
  ];
}

export function schedulerArgs(c: ManagerConfig): string[] {
  return commonManagerArgs(c);
}

export function componentDirs(clusterDir: string): Record<'etcd' | 'pki' | 'apiserver' | 'controllerManager' | 'scheduler', string> {
  return {
    etcd: join(clusterDir, 'etcd'),
    pki: join(clusterDir, 'pki'),
    apiserver: join(clusterDir, 'apiserver'),
    controllerManager: join(clusterDir, 'controller-manager'),
    scheduler: join(clusterDir, 'scheduler'),
  };
}
