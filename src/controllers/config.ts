// What every controller of `zcsp manager` needs to know about where it runs.
import { z } from 'zod';

export const OperatorConfig = z.strictObject({
  /** The provider namespace: the operator's own (the Helm release's). ZCCs, VRA pods and their
   * credentials live here; tenants have no access to it. */
  namespace: z.string().min(1),
  /** The image every role runs (one image, a subcommand per role): ZCC and VRA pods use it
   * unless a Site names another. */
  image: z.string().min(1),
  /** Label put on everything the operator creates, so it can be found and cleaned up. */
  managedByLabel: z.string().default('app.kubernetes.io/managed-by'),
});
export type OperatorConfig = z.output<typeof OperatorConfig>;

/** The value of the managed-by label on every child. */
export const MANAGED_BY = 'zcsp-operator';

/** The operator's config from its environment (the chart sets POD_NAMESPACE and ZCSP_IMAGE). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const result = OperatorConfig.safeParse({ namespace: env['POD_NAMESPACE'], image: env['ZCSP_IMAGE'] });
  if (!result.success) {
    const fields = result.error.issues.map((i) => (i.path[0] === 'namespace' ? 'POD_NAMESPACE' : 'ZCSP_IMAGE')).join(' and ');
    throw new Error(`the operator needs ${fields} in its environment (the Helm chart sets them)`);
  }
  return result.data;
}
