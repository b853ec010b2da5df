import assert from 'node:assert/strict';
import { appendFile, chmod, mkdir, mkdtemp, open, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ReplicaError } from './errors.ts';
import { materialise } from './materialise.ts';
import { Replica } from './replica.ts';
import { Workload } from './replica.test-support.ts';
import { verify } from './verify.ts';

const VOLUMES = [
  { name: 'data', kind: 'fs' as const },
  { name: 'disk', kind: 'block' as const },
];

let root: string;
let replica: Replica;
let w: Workload;
let c2 = 0;
let n = 0;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'replica-verify-'));
  replica = await Replica.open(join(root, 'replica'), VOLUMES);
  w = new Workload(31, VOLUMES);
  w.random(40);
  w.op('data', { op: 'mkdir', path: 'docs', mode: 0o755 });
  w.op('data', { op: 'create', path: 'docs/old.txt', id: 1000, mode: 0o644 });
  w.op('data', { op: 'write', id: 1000, offset: 0, data: Buffer.alloc(200_000, 'o') });
  w.op('disk', { op: 'write', id: 0, offset: 0, data: Buffer.alloc(100_000, 'd') });
  const c1 = w.checkpoint();
  await replica.apply(w.journal, c1);
  // docs/old.txt does not change after the replica's point: its digest now lives only in the replica.
  await w.journal.dropThrough(c1);
  w.op('data', { op: 'create', path: 'docs/new.txt', id: 1001, mode: 0o600 });
  w.op('data', { op: 'write', id: 1001, offset: 0, data: Buffer.from('fresh') });
  w.op('disk', { op: 'write', id: 0, offset: 7, data: Buffer.from('later') });
  c2 = w.checkpoint();
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function materialised(): Promise<Map<string, string>> {
  const out = join(root, `out${n++}`);
  await mkdir(out);
  const targets = new Map(VOLUMES.map((v) => [v.name, join(out, v.name)]));
  await materialise({ replica, journal: w.journal, checkpointSeq: c2, targets });
  return targets;
}

const target = (targets: Map<string, string>, volume: string): string => targets.get(volume) ?? assert.fail(volume);

describe('verify', () => {
  it('passes an untouched copy, at the replica checkpoint and after', async () => {
    const targets = await materialised();
    const result = await verify({ replica, journal: w.journal, checkpointSeq: c2, targets });
    assert.deepEqual(result.files, []);
    assert.equal(result.ok, true);
    assert.deepEqual(result.volumes.map((v) => [v.volume, v.ok, v.expected === v.actual]), [['data', true, true], ['disk', true, true]]);
  });

  it('catches a flipped byte in a file unchanged since before the replica point, and names it', async () => {
    const targets = await materialised();
    const fh = await open(join(target(targets, 'data'), 'docs/old.txt'), 'r+');
    await fh.write(Buffer.from('X'), 0, 1, 123_456);
    await fh.close();
    const result = await verify({ replica, journal: w.journal, checkpointSeq: c2, targets });
    assert.equal(result.ok, false);
    const [only, ...rest] = result.files;
    assert.deepEqual(rest, []);
    assert.equal(only?.path, 'docs/old.txt');
    assert.match(only.problem, /content digest [0-9a-f]{64} \(200000 bytes\) is not the source's [0-9a-f]{64} \(200000 bytes\)/);
    assert.deepEqual(result.volumes.map((v) => [v.volume, v.ok]), [['data', false], ['disk', true]]);
  });

  it('catches a changed file written after the replica point', async () => {
    const targets = await materialised();
    await appendFile(join(target(targets, 'data'), 'docs/new.txt'), '!');
    const result = await verify({ replica, journal: w.journal, checkpointSeq: c2, targets });
    assert.deepEqual(result.files.map((f) => f.path), ['docs/new.txt']);
  });

  it('catches a flipped byte in a block image', async () => {
    const targets = await materialised();
    const fh = await open(target(targets, 'disk'), 'r+');
    await fh.write(Buffer.from('Z'), 0, 1, 5);
    await fh.close();
    const result = await verify({ replica, journal: w.journal, checkpointSeq: c2, targets });
    assert.equal(result.ok, false);
    assert.deepEqual(result.volumes.map((v) => [v.volume, v.ok]), [['data', true], ['disk', false]]);
  });

  it('names missing, extra, retyped and re-moded entries', async () => {
    const targets = await materialised();
    const data = target(targets, 'data');
    await unlink(join(data, 'docs/new.txt'));
    await writeFile(join(data, 'docs/stray'), 'x');
    await chmod(join(data, 'docs'), 0o700);
    const result = await verify({ replica, journal: w.journal, checkpointSeq: c2, targets });
    const problems = new Map(result.files.map((f) => [f.path, f.problem]));
    assert.equal(problems.get('docs/new.txt'), 'is missing');
    assert.match(problems.get('docs/stray') ?? '', /is not in the checkpoint \(found a file\)/);
    assert.equal(problems.get('docs'), 'mode is 0o700, expected 0o755');
    assert.equal(result.ok, false);
  });

  it('refuses a checkpoint the journal no longer holds', async () => {
    await assert.rejects(verify({ replica, journal: w.journal, checkpointSeq: 1, targets: new Map() }), (err: unknown) => err instanceof ReplicaError && /older than the journal's history/.test(err.message));
  });
});
