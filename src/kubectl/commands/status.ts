// kubectl zcsp status [VPG]: the VPGs of the namespace as a table, or one in detail.
import { VPGS } from '../../controllers/resources.ts';
import { UsageError } from '../args.ts';
import type { Command, Context } from '../command.ts';
import { statusDetail, statusTable } from '../describe.ts';
import type { Vpg } from '../vpg.ts';
import { getVpg, print } from './shared.ts';

const asData = (v: Vpg): unknown => ({
  name: v.metadata?.name, namespace: v.metadata?.namespace, operation: v.spec?.operation, status: v.status ?? {},
});

async function listAll(ctx: Context, allNamespaces: boolean): Promise<Vpg[]> {
  const items: Vpg[] = [];
  let next: string | undefined;
  do {
    const page = await ctx.client.list(VPGS, { namespace: allNamespaces ? undefined : ctx.namespace, limit: 500, continue: next });
    items.push(...page.items as Vpg[]);
    next = page.metadata?.continue;
  } while (next !== undefined && next !== '');
  return items;
}

export const statusCommand: Command = {
  name: 'status',
  args: '[VPG]',
  summary: 'the VPGs of the namespace, or one VPG in detail',
  flags: ['output', 'all-namespaces'],
  prepare(args, flags) {
    if (args.length > 1) throw new UsageError(`unexpected argument "${args[1] ?? ''}"`);
    const name = args[0];
    const allNamespaces = flags.boolean('all-namespaces', false);
    if (name !== undefined && allNamespaces) throw new UsageError('--all-namespaces lists VPGs; it takes no VPG name');
    return async (ctx) => {
      if (name !== undefined) {
        const vpg = await getVpg(ctx, name);
        print(ctx, asData(vpg), statusDetail(vpg, ctx.now()));
        return 0;
      }
      const vpgs = await listAll(ctx, allNamespaces);
      if (vpgs.length === 0 && !ctx.json) {
        ctx.io.err(allNamespaces ? 'No VPGs found.\n' : `No VPGs in namespace ${ctx.namespace}.\n`);
        return 0;
      }
      print(ctx, vpgs.map(asData), statusTable(vpgs, { allNamespaces }));
      return 0;
    };
  },
};
