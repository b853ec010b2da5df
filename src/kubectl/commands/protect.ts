// kubectl zcsp protect VPG: an assessment (spec.mode Assess) starts protecting. The switch is
// spec.mode Protect; the controller then replaces the assessment stream with a replication
// stream, beginning with the initial sync. There is no way back to Assess (the CRD refuses it).
import type { Command } from '../command.ts';
import { CommandError } from '../errors.ts';
import { elapsed } from '../format.ts';
import { followProtect } from '../follow.ts';
import { changeSpec } from '../patch.ts';
import { expectArgs, print, progress, target, waitOn } from './shared.ts';

export const protectCommand: Command = {
  name: 'protect',
  args: 'VPG',
  summary: 'start protecting a VPG that assesses (spec.mode Assess)',
  details: 'Sets spec.mode Protect and waits until the controller has started replication (the initial sync). '
    + 'An assessment cannot be resumed afterwards. Wait for the initial sync with `kubectl wait --for=condition=MeetingSLA vpg/VPG`.',
  flags: ['wait', 'timeout', 'output'],
  prepare(args) {
    const [name = ''] = expectArgs(args, ['VPG']);
    return async (ctx) => {
      const startedAt = ctx.now();
      const { after } = await changeSpec(ctx.client, ctx.namespace, name, (vpg) => {
        if (vpg.spec?.mode !== 'Assess') {
          throw new CommandError(`VPG ${ctx.namespace}/${name} already protects (spec.mode ${vpg.spec?.mode ?? 'Protect'}): only an assessment can be switched to Protect`);
        }
        return [{ op: 'replace', path: '/spec/mode', value: 'Protect' }];
      });
      progress(ctx, `${elapsed(startedAt, ctx.now())} VPG ${ctx.namespace}/${name}: spec.mode Protect`);
      if (!ctx.wait) {
        print(ctx, { mode: 'Protect' }, `VPG ${name} switched to Protect; follow it with: kubectl zcsp status ${target(ctx, name)}`);
        return 0;
      }
      const started = await waitOn(ctx, name, after, followProtect({ generation: after.metadata?.generation ?? 0, startedAt }), `VPG ${name} to start protecting`);
      const sync = started.status?.sync;
      print(ctx, { phase: started.status?.phase, substatus: started.status?.substatus, sync },
        `VPG ${name} protects: phase ${started.status?.phase ?? '-'}${sync === undefined ? '' : `, ${sync.type.toLowerCase()} sync ${sync.progressPercent}%`}.`
        + ` Wait for the initial sync with: kubectl wait --for=condition=MeetingSLA vpg/${name} -n ${ctx.namespace}`);
      return 0;
    };
  },
};
