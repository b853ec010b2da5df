// Every flag of `kubectl zcsp`, in one table: the parser reads it and the usage text is made
// from it, so the two cannot disagree.
import type { FlagSpecs } from './args.ts';

export const GLOBAL_FLAGS = ['kubeconfig', 'context', 'namespace', 'help'] as const;
export const WAIT_FLAGS = ['wait', 'timeout', 'output'] as const;

export const FLAGS: FlagSpecs = {
  'kubeconfig': { type: 'string', value: 'FILE', help: 'the kubeconfig to use (default: KUBECONFIG, else ~/.kube/config)' },
  'context': { type: 'string', value: 'NAME', help: 'the kubeconfig context to use' },
  'namespace': { type: 'string', short: 'n', value: 'NAMESPACE', help: 'the VPG\'s namespace (default: the context\'s, else "default")' },
  'help': { type: 'boolean', short: 'h', help: 'show this help' },
  'output': { type: 'string', short: 'o', value: 'json', help: 'print the result as JSON' },
  'wait': { type: 'boolean', help: 'wait for the outcome (default true); --wait=false returns right after the change' },
  'timeout': { type: 'string', value: 'DURATION', help: 'how long to wait, e.g. 90s, 30m, 1h (default 30m)' },
  'all-namespaces': { type: 'boolean', short: 'A', help: 'list the VPGs of every namespace you can read' },
  'checkpoint': { type: 'string', value: 'CHECKPOINT', help: 'latest (default), latest-tagged, a checkpoint\'s id or tag, or an RFC 3339 time (the latest checkpoint at or before it)' },
  'commit-policy': { type: 'string', value: 'POLICY', help: 'manual (wait for commit or rollback), auto-commit:MIN or auto-rollback:MIN (act after MIN minutes without a decision); default auto-commit:10' },
  'reverse': { type: 'boolean', help: 'after the commit, protect the recovered volumes back to the protected site' },
  'zorg': { type: 'string', value: 'NAME', help: 'size a Zorg: its totals, and a line per VPG of its namespaces you may read' },
  'site': { type: 'string', value: 'NAME', help: 'size a Site: its totals as recovery site and as protected site, against its VRA volumes' },
  'protected': { type: 'string', value: 'SIZE', help: 'hypothetical: the protected size, e.g. 403TB, 1.5PB, 500GiB (TB decimal, TiB binary)' },
  'daily-change': { type: 'string', value: 'PERCENT', help: 'hypothetical: the share of the protected size written a day, e.g. 10%' },
  'history': { type: 'string', value: 'SPAN', help: 'hypothetical: the journal history, 1h to 720h, e.g. 24h, 2d (default 24h)' },
  'compression': { type: 'string', value: 'RATIO', help: 'hypothetical: raw to compressed bytes, e.g. 2 or 2:1 (default 1: none)' },
  'failback': { type: 'boolean', help: 'hypothetical: failback wanted, so a failover needs space for reverse protection on the protected site' },
  'hard-limit': { type: 'string', value: 'LIMIT', help: 'hypothetical: the journal hard limit: unlimited (default), a percentage of the protected size (10%) or a size (50TB)' },
  'rpo': { type: 'string', value: 'DURATION', help: 'hypothetical: the RPO target, e.g. 5m, 90s (default 5m)' },
  'peak-factor': { type: 'string', value: 'FACTOR', help: 'hypothetical: the busiest 5 minutes as a multiple of the average change (default 1: steady)' },
};
