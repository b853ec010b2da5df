// A Zorg's and a Site's capacity figures: the totals of their VPGs' status.sizing, summed with
// src/sizing (the one place the arithmetic lives). A VPG whose sizing does not parse, or has none
// yet (still syncing), does not count; the totals say how many did.
import { VPGSizing, type SizingTotals } from '../crds/sizing.ts';
import type { CustomObject } from '../runtime/index.ts';
import { total } from '../sizing/index.ts';

/** The VPG's sizing report, if its status has a valid one. */
export function sizingOfVpg(vpg: CustomObject): VPGSizing | undefined {
  const r = VPGSizing.safeParse(vpg.status?.['sizing']);
  return r.success ? r.data : undefined;
}

/** Totals over the VPGs that have figures; undefined when none has. */
export function sizingTotals(vpgs: readonly CustomObject[]): SizingTotals | undefined {
  const reports = vpgs.flatMap((v) => {
    const s = sizingOfVpg(v);
    return s === undefined ? [] : [s];
  });
  return reports.length === 0 ? undefined : total(reports);
}
