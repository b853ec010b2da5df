// Kubeconfig files with the credentials embedded, so a file can be copied and used anywhere.
import { writeFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { pemData, type CertPair } from './pki.ts';

export interface KubeconfigSpec {
  server: string;
  caFile: string;
  client: CertPair;
  /** Context and user name; the cluster is always "zcsp-local". */
  name: string;
  namespace?: string;
}

export async function writeKubeconfig(file: string, spec: KubeconfigSpec): Promise<KubeConfig> {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'zcsp-local', cluster: { server: spec.server, 'certificate-authority-data': await pemData(spec.caFile) } }],
    users: [{
      name: spec.name,
      user: { 'client-certificate-data': await pemData(spec.client.certFile), 'client-key-data': await pemData(spec.client.keyFile) },
    }],
    contexts: [{ name: spec.name, context: { cluster: 'zcsp-local', user: spec.name, ...(spec.namespace !== undefined && { namespace: spec.namespace }) } }],
    'current-context': spec.name,
    preferences: {},
  };
  await writeFile(file, stringify(doc), { mode: 0o600 });
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}
