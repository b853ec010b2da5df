// What every controller of `zcsp manager` needs to know about where it runs.
import { z } from 'zod';
import { objectName } from '../crds/common.ts';

export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;

export const OperatorConfig = z.strictObject({
  /** The provider namespace: the operator's own (the Helm release's). ZCCs, VRA pods and their
   * credentials live here; tenants have no access to it. */
  namespace: z.string().min(1),
  /** The image every role runs (one image, a subcommand per role): ZCC and VRA pods use it
   * unless a Site names another. */
  image: z.string().min(1),
  /** How the pods the operator makes pull it; unset: Kubernetes' default for the tag. */
  imagePullPolicy: z.enum(PULL_POLICIES).optional(),
  /** Secrets in the provider namespace that VRA and ZCC pods pull with (a private registry). */
  imagePullSecrets: z.array(objectName('an image pull secret')).default([]),
  /** Label put on everything the operator creates, so it can be found and cleaned up. */
  managedByLabel: z.string().default('app.kubernetes.io/managed-by'),
});
export type OperatorConfig = z.output<typeof OperatorConfig>;

/** The value of the managed-by label on every child. */
export const MANAGED_BY = 'zcsp-operator';

/** Where each setting comes from (the chart sets them all from its values). */
const ENV: Record<string, string> = {
  namespace: 'POD_NAMESPACE',
  image: 'ZCSP_IMAGE',
  imagePullPolicy: 'ZCSP_IMAGE_PULL_POLICY',
  imagePullSecrets: 'ZCSP_IMAGE_PULL_SECRETS',
};

/**
 * The operator's config from its environment: POD_NAMESPACE and ZCSP_IMAGE, and optionally
 * ZCSP_IMAGE_PULL_POLICY and ZCSP_IMAGE_PULL_SECRETS (secret names, separated by commas).
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const policy = env['ZCSP_IMAGE_PULL_POLICY'];
  const secrets = env['ZCSP_IMAGE_PULL_SECRETS'];
  const result = OperatorConfig.safeParse({
    namespace: env['POD_NAMESPACE'],
    image: env['ZCSP_IMAGE'],
    imagePullPolicy: policy === undefined || policy === '' ? undefined : policy,
    imagePullSecrets: secrets === undefined || secrets.trim() === '' ? [] : secrets.split(',').map((s) => s.trim()),
  });
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const field = String(i.path[0]);
      const name = ENV[field] ?? field;
      if (field === 'namespace' || field === 'image') return `${name} is missing or empty`;
      if (field === 'imagePullPolicy') return `${name} "${policy ?? ''}" must be one of ${PULL_POLICIES.join(', ')}`;
      return `${name} names ${JSON.stringify(secrets ?? '')}: each secret name (item ${String(i.path[1])}) must be a Kubernetes object name`;
    });
    throw new Error(`the operator's environment (the Helm chart sets it): ${[...new Set(problems)].join('; ')}`);
  }
  return result.data;
}

/** A container's pull policy, as the operator was told (nothing when it was not). */
export function pullPolicy(config: OperatorConfig): { imagePullPolicy?: (typeof PULL_POLICIES)[number] } {
  return config.imagePullPolicy === undefined ? {} : { imagePullPolicy: config.imagePullPolicy };
}

/** A pod's pull secrets, for pods in the provider namespace where the secrets are. */
export function pullSecrets(config: OperatorConfig): { imagePullSecrets?: { name: string }[] } {
  return config.imagePullSecrets.length === 0 ? {} : { imagePullSecrets: config.imagePullSecrets.map((name) => ({ name })) };
}
