// `zcsp restore`: the mover a restore pod runs. It mounts the new volume, pulls one volume of a
// checkpoint from the recovery VRA's export (GET /v1/exports/{id}) and writes it there. Progress
// goes to stderr, the result as one JSON line to stdout (what the operator reads back).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError, type Command } from '../cli/command.ts';
import { ExportError } from './format.ts';
import { restore, type RestoreProgress } from './restore.ts';
import { RestoreError } from './target.ts';

const help = `usage: zcsp restore --from URL --token-file F --ca-file F --into PATH [options]

Restores one volume of a checkpoint from a recovery VRA's export (POST /v1/streams/{id}/exports
creates one). A filesystem volume goes into an empty folder (an empty lost+found is allowed), a
block volume into a new image file or a block device. Nothing is put in place until every
checksum and the totals checked out and everything is fsync'd; a failed run leaves nothing that
a re-run with the same arguments does not clear first.

  --from URL              https://HOST:PORT/v1/exports/ID (the VRA's control port)
  --token-file F          the export's token (one export only, until it expires)
  --ca-file F             the VRA's certificate (PEM): the only one trusted
  --servername NAME       the name in that certificate (default vra.zcsp.io)
  --into PATH             the folder (fs) or image file / device (block) to restore into
  --verify                also check the result against the source's digest of the checkpoint
  --progress-seconds N    progress to stderr every N seconds (default 5; 0: none)
  --timeout-seconds N     give up when the VRA sends nothing for N seconds (default 60)`;

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'restore a volume of a checkpoint from a recovery VRA\'s export',
  async run(args) {
    const { values } = parseArgs({
      args: [...args],
      options: {
        from: { type: 'string' },
        'token-file': { type: 'string' },
        'ca-file': { type: 'string' },
        servername: { type: 'string', default: 'vra.zcsp.io' },
        into: { type: 'string' },
        verify: { type: 'boolean', default: false },
        'progress-seconds': { type: 'string', default: '5' },
        'timeout-seconds': { type: 'string', default: '60' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(help + '\n');
      return 0;
    }
    const from = required('from', values.from);
    const url = URL.canParse(from) ? new URL(from) : undefined;
    if (url?.protocol !== 'https:' || !/^\/v1\/exports\/[^/]+$/.test(url.pathname)) throw new UsageError(`--from: ${JSON.stringify(from)} is not https://HOST:PORT/v1/exports/ID`);
    const token = (await readFlagFile('token-file', required('token-file', values['token-file']))).trim();
    if (token === '') throw new UsageError(`--token-file ${values['token-file'] ?? ''}: the file is empty`);
    const ca = await readFlagFile('ca-file', required('ca-file', values['ca-file']));
    const into = resolve(required('into', values.into));
    const progressSeconds = seconds('progress-seconds', values['progress-seconds'], 0);
    const idleSeconds = seconds('timeout-seconds', values['timeout-seconds'], 1);

    try {
      const result = await restore({
        url, token, ca, servername: values.servername, into, verify: values.verify, idleMs: idleSeconds * 1000,
        ...(progressSeconds > 0 && { onProgress: printProgress, progressMs: progressSeconds * 1000 }),
      });
      const { header, totals } = result;
      process.stderr.write(`zcsp restore: done: ${mib(totals.bytes)} in ${totals.files} files (${totals.entries} entries) into ${into} in ${result.seconds.toFixed(1)} s, ${mib(totals.bytes / Math.max(result.seconds, 0.001))}/s${result.verified ? ', verified against the source\'s digest' : ''}\n`);
      process.stdout.write(JSON.stringify({
        ok: true, exportId: header.exportId, volume: header.volume, kind: header.kind, into,
        bytes: totals.bytes, files: totals.files, entries: totals.entries, seconds: Number(result.seconds.toFixed(3)),
        checkpoint: header.checkpoint, verified: result.verified,
      }) + '\n');
      return 0;
    } catch (err: unknown) {
      if (!(err instanceof RestoreError || err instanceof ExportError)) throw err;
      process.stderr.write(`zcsp restore: ${err.message}\n`);
      process.stdout.write(JSON.stringify({ ok: false, error: err.message }) + '\n');
      return 1;
    }
  },
};

function required(flag: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
  return value;
}

async function readFlagFile(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err: unknown) {
    throw new UsageError(`--${flag} ${path}: ${(err as Error).message}`);
  }
}

function seconds(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > 86_400) throw new UsageError(`--${flag}: "${value}" is not a number of seconds (${min}-86400)`);
  return n;
}

function printProgress(p: RestoreProgress): void {
  const total = p.header?.totals;
  const pct = total !== undefined && total.bytes > 0 ? ` (${Math.floor((p.done.bytes / total.bytes) * 100)}%)` : '';
  const files = total === undefined ? `${p.done.files} files` : `${p.done.files} of ${total.files} files`;
  process.stderr.write(`zcsp restore: ${mib(p.done.bytes)}${total === undefined ? '' : ` of ${mib(total.bytes)}`}${pct}, ${files}, ${mib(p.done.bytes / Math.max(p.seconds, 0.001))}/s\n`);
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
