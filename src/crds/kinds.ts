// Every kind of the zcsp.io API, in the order the generator writes them.
import type { Kind } from './crd.ts';
import { serviceProfileKind } from './service-profile.ts';
import { siteKind } from './site.ts';
import { vpgKind } from './vpg.ts';
import { zccKind } from './zcc.ts';
import { zorgKind } from './zorg.ts';

export const KINDS: readonly Kind[] = [serviceProfileKind, siteKind, vpgKind, zccKind, zorgKind];
