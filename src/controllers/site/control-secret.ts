// The bearer token the operator presents to every VRA's control API: one Secret in the provider
// namespace, made once with a random token and never rotated by a reconcile (the VRAs read it at
// start). Deleting it makes a new one; the VRAs pick it up when they are replaced.
import { randomBytes } from 'node:crypto';
import { SECRETS, isAlreadyExists, isNotFound, type KubeClient, type Secret } from '../../runtime/index.ts';
import { MANAGED_BY, type OperatorConfig } from '../config.ts';

export const VRA_CONTROL_SECRET = 'zcsp-vra-control';

export function desiredControlSecret(config: OperatorConfig): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: VRA_CONTROL_SECRET,
      namespace: config.namespace,
      labels: { 'app.kubernetes.io/name': 'zcsp', 'app.kubernetes.io/component': 'vra', [config.managedByLabel]: MANAGED_BY },
    },
    type: 'Opaque',
    data: { token: Buffer.from(randomBytes(32).toString('base64url')).toString('base64') },
  };
}

/** Reads the Secret, creating it when missing. */
export async function ensureControlSecret(client: KubeClient, config: OperatorConfig, fieldManager: string): Promise<{ secret: Secret; created: boolean }> {
  try {
    return { secret: await client.get(SECRETS, VRA_CONTROL_SECRET, config.namespace), created: false };
  } catch (err: unknown) {
    if (!isNotFound(err)) throw err;
  }
  try {
    return { secret: await client.create(SECRETS, desiredControlSecret(config), { fieldManager }), created: true };
  } catch (err: unknown) {
    if (isAlreadyExists(err)) return { secret: await client.get(SECRETS, VRA_CONTROL_SECRET, config.namespace), created: false };
    throw err;
  }
}
