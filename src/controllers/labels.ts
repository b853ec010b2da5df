// Labels and annotations the Site and ZCC controllers put on what they create, and that the ZCC
// proxy reads back (it finds a tenant's recovery VRAs by them). One place, so writer and reader
// cannot drift apart.
import { childName } from '../runtime/index.ts';

/** The Site a VRA pod or volume belongs to (as a label value: see labelValue). */
export const LABEL_SITE = 'zcsp.io/site';
/** The node a VRA pod or volume serves (as a label value: see labelValue). */
export const LABEL_NODE = 'zcsp.io/node';
/** What a pod is: vra or zcc. */
export const LABEL_ROLE = 'zcsp.io/role';
/** The ZCC a connector object belongs to. */
export const LABEL_ZCC = 'zcsp.io/zcc';
/** The tenant a connector serves. */
export const LABEL_ZORG = 'zcsp.io/zorg';
/** On a VRA volume whose node left the site: the volume is kept (its journal may hold data). */
export const LABEL_ORPHANED = 'zcsp.io/orphaned';

export const ROLE_VRA = 'vra';
export const ROLE_ZCC = 'zcc';

/** The full names, where a label value (63 characters) could not hold them. */
export const ANNOTATION_SITE = 'zcsp.io/site-name';
export const ANNOTATION_NODE = 'zcsp.io/node-name';
/** Hash of the desired pod spec: a VRA pod whose hash differs is replaced. */
export const ANNOTATION_SPEC_HASH = 'zcsp.io/spec-hash';
/** When a VRA volume became orphaned (RFC 3339). */
export const ANNOTATION_ORPHANED_SINCE = 'zcsp.io/orphaned-since';
/** Hash of the credentials a ZCC pod runs with: new credentials roll the pods. */
export const ANNOTATION_CREDENTIALS_HASH = 'zcsp.io/credentials-hash';

/** The VRA's replication port (TLS): where a tenant's ZCC tunnels lead. */
export const VRA_PORT = 9440;
export const VRA_PORT_NAME = 'vra';
/** The VRA's control API (HTTPS, the operator's bearer token). */
export const VRA_CONTROL_PORT = 9441;
export const VRA_CONTROL_PORT_NAME = 'vra-control';
/** The VRA's /healthz, /readyz and /metrics (plain HTTP). */
export const VRA_HEALTH_PORT = 9442;
export const VRA_HEALTH_PORT_NAME = 'vra-health';

/**
 * An object name as a label value: itself when it fits (63 characters, the usual case), else a
 * unique shortening (a hash of the whole). Object names are lowercase DNS names, which are valid
 * label values once short enough.
 */
export function labelValue(name: string): string {
  return childName([name]);
}
