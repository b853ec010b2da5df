// The invalid-manifest table of the zcsp.io API, one file per kind.
import { serviceProfileBase, serviceProfileCases } from './service-profile.ts';
import { siteBase, siteCases } from './site.ts';
import type { InvalidCase, KindName, Patch } from './table.ts';
import { vpgBase, vpgCases } from './vpg.ts';
import { zccBase, zccCases } from './zcc.ts';
import { zorgBase, zorgCases } from './zorg.ts';

export { mergePatch, type InvalidCase, type Patch } from './table.ts';

/** A valid object of each kind, which every case breaks in one way. */
export const BASES: Record<KindName, Patch> = {
  ServiceProfile: serviceProfileBase, Zorg: zorgBase, Site: siteBase, VPG: vpgBase, ZCC: zccBase,
};

export const INVALID_CASES: readonly InvalidCase[] = [...serviceProfileCases, ...zorgCases, ...siteCases, ...vpgCases, ...zccCases];
