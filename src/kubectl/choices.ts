// The values of --checkpoint, --commit-policy and a tag name, turned into what spec.operation and
// the tag annotation take. Checked here, before anything is sent, so a typo is a usage error and
// not a refusal from the API server.
import { UsageError } from './args.ts';
import type { CheckpointChoice, CommitPolicy } from './vpg.ts';

/** Same bounds as status.checkpoints.tagged[].tag and spec.operation.checkpoint.name. */
const MAX_NAME = 128;

// RFC 3339 as the API server's date-time format takes it: a date, a time and an offset.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function checkName(what: string, name: string): void {
  const length = Array.from(name).length; // code points, as the API server counts
  if (length < 1 || length > MAX_NAME) throw new UsageError(`${what} must be 1-${MAX_NAME} characters (it is ${length})`);
  if (/\p{Cc}/u.test(name)) throw new UsageError(`${what} must not contain control characters`);
}

/** The tag of `kubectl zcsp tag VPG NAME`. */
export function checkTagName(name: string): string {
  checkName('the tag', name);
  return name;
}

/** --checkpoint: latest, latest-tagged, an RFC 3339 time, or a checkpoint's id or tag. */
export function parseCheckpoint(text: string): CheckpointChoice {
  if (text === 'latest') return { type: 'Latest' };
  if (text === 'latest-tagged') return { type: 'LatestTagged' };
  if (RFC3339.test(text)) {
    if (Number.isNaN(Date.parse(text))) throw new UsageError(`--checkpoint: "${text}" is not a valid time`);
    return { type: 'Time', time: text.toUpperCase() };
  }
  checkName('--checkpoint', text);
  return { type: 'Named', name: text };
}

/** --commit-policy: manual, auto-commit:MINUTES or auto-rollback:MINUTES (0-1440). */
export function parseCommitPolicy(text: string): CommitPolicy {
  if (text === 'manual') return { type: 'Manual' };
  const m = /^(auto-commit|auto-rollback):(\d+)$/.exec(text);
  const minutes = Number(m?.[2]);
  if (m === null || !Number.isInteger(minutes) || minutes > 1440) {
    throw new UsageError(`--commit-policy: "${text}" is not manual, auto-commit:MINUTES or auto-rollback:MINUTES (0-1440)`);
  }
  return { type: m[1] === 'auto-commit' ? 'AutoCommit' : 'AutoRollback', timeoutMinutes: minutes };
}
