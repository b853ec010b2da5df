import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAtomically, type FileProjection } from './atomic-writer.ts';

const file = (text: string, mode = 0o644): FileProjection => ({ data: Buffer.from(text), mode });

describe('writeAtomically', () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'zcsp-atomic-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('lays files out behind ..data with top-level symlinks and modes', async () => {
    const dir = join(base, 'v1');
    assert.equal(await writeAtomically(dir, new Map([['a', file('A')], ['sub/b', file('B', 0o400)]])), true);
    assert.equal(await readFile(join(dir, 'a'), 'utf8'), 'A');
    assert.equal(await readFile(join(dir, 'sub/b'), 'utf8'), 'B');
    assert.equal(await readlink(join(dir, 'a')), '..data/a');
    assert.equal(await readlink(join(dir, 'sub')), '..data/sub');
    assert.equal((await stat(join(dir, 'sub/b'))).mode & 0o777, 0o400);
    assert.match(await readlink(join(dir, '..data')), /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d{3}\./);
  });

  it('does nothing when the content is unchanged, swaps versions when it changed', async () => {
    const dir = join(base, 'v2');
    await writeAtomically(dir, new Map([['a', file('A')], ['gone', file('x')]]));
    const first = await readlink(join(dir, '..data'));
    assert.equal(await writeAtomically(dir, new Map([['a', file('A')], ['gone', file('x')]])), false);
    assert.equal(await readlink(join(dir, '..data')), first);

    assert.equal(await writeAtomically(dir, new Map([['a', file('A2')], ['new', file('n')]])), true);
    assert.notEqual(await readlink(join(dir, '..data')), first);
    assert.equal(await readFile(join(dir, 'a'), 'utf8'), 'A2');
    assert.equal(await readFile(join(dir, 'new'), 'utf8'), 'n');
    const entries = (await readdir(dir)).sort();
    assert.deepEqual(entries.filter((e) => !e.startsWith('..')), ['a', 'new'], 'stale names are removed');
    assert.equal(entries.filter((e) => e.startsWith('..') && e !== '..data').length, 1, 'the old version is removed');
  });

  it('writes an empty payload (an optional, missing ConfigMap) as an empty volume', async () => {
    const dir = join(base, 'v3');
    assert.equal(await writeAtomically(dir, new Map()), true);
    assert.deepEqual((await readdir(dir)).filter((e) => !e.startsWith('..')), []);
  });

  it('refuses paths that leave the volume', async () => {
    for (const bad of ['../x', '/abs', 'a/../../b', '..hidden', 'a//b']) {
      await assert.rejects(writeAtomically(join(base, 'bad'), new Map([[bad, file('x')]])), /invalid volume file path/);
    }
  });
});
