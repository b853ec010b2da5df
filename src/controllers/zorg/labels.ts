// Names, labels and annotations the Zorg controller puts on what it creates, or selects by. The
// keys shared with the other controllers (zcsp.io/zorg, zcsp.io/zcc, zcsp.io/role) come from
// ../labels.ts, so that the ZCC controller labels its pods the way these network policies select them.
export { LABEL_ROLE as ROLE_LABEL, LABEL_ZCC as ZCC_LABEL, LABEL_ZORG as ZORG_LABEL, ROLE_VRA as VRA_ROLE, labelValue } from '../labels.ts';

/**
 * On an existing namespace, set by the provider: the Zorg of that name may adopt it (the operator
 * never takes over a namespace it did not create without it). Set by the operator itself when a
 * namespace leaves a Zorg's spec, so that the same Zorg can take it back.
 */
export const ADOPT_ANNOTATION = 'zcsp.io/adopt';
/** The label Kubernetes puts on every namespace: its name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Names of what the operator keeps in every tenant namespace. */
export const QUOTA_NAME = 'zcsp-quota';
export const VRA_EGRESS_POLICY_NAME = 'zcsp-vra-egress';
