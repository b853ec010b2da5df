import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CopyQueue, type CopyJob } from './copy-queue.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'copy-queue-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
/** `count` source files of 64 KiB each (content names the file) and jobs copying them into a new folder. */
async function setup(count: number): Promise<{ jobs: CopyJob[]; out: string }> {
  const dir = join(root, `case${n++}`);
  const src = join(dir, 'src');
  const out = join(dir, 'out');
  await mkdir(src, { recursive: true });
  await mkdir(out);
  const jobs: CopyJob[] = [];
  for (let i = 0; i < count; i++) {
    const from = join(src, `f${i}`);
    await writeFile(from, Buffer.alloc(64 * 1024, `file ${i} `));
    jobs.push({ key: `v\0${i}`, from, to: join(out, `f${i}`), size: 64 * 1024, links: [] });
  }
  return { jobs, out };
}

describe('CopyQueue', () => {
  it('copies every file, makes its hard links, and reports bytes up to the total', async () => {
    const { jobs, out } = await setup(12);
    jobs[3] = { ...(jobs[3] as CopyJob), links: [join(out, 'also3'), join(out, 'again3')] };
    const seen: number[] = [];
    const reported = new Set<string>();
    const q = new CopyQueue(jobs, 3, (job, done, total) => {
      assert.equal(total, 12 * 64 * 1024);
      // Reported once whole: its content and its links are there.
      assert.ok(existsSync(job.to));
      for (const l of job.links) assert.ok(existsSync(l));
      reported.add(job.key);
      seen.push(done);
    });
    await q.done;
    assert.equal(seen.length, 12);
    assert.equal(seen.at(-1), 12 * 64 * 1024);
    assert.deepEqual([...reported].sort(), jobs.map((j) => j.key).sort());
    for (const j of jobs) assert.deepEqual(await readFile(j.to), await readFile(j.from));
    const ino = (await stat(join(out, 'f3'))).ino;
    assert.equal((await stat(join(out, 'also3'))).ino, ino);
    assert.equal((await stat(join(out, 'again3'))).ino, ino);
  });

  it('copies a file asked for before the ones queued ahead of it', async () => {
    const { jobs, out } = await setup(40);
    const q = new CopyQueue(jobs, 1);
    await q.ready('v\x0039');
    assert.ok(existsSync(join(out, 'f39')));
    // The first was already running; at most one more started after the one asked for.
    const copied = jobs.filter((j) => existsSync(j.to)).length;
    assert.ok(copied <= 3, `${copied} files copied when the last one was ready`);
    await q.done;
    assert.equal(jobs.filter((j) => existsSync(j.to)).length, 40);
  });

  it('is ready at once for a key it does not copy (a file the journal creates)', async () => {
    const { jobs } = await setup(2);
    const q = new CopyQueue(jobs, 1);
    await q.ready('v\0new');
    await q.done;
    await q.ready('v\x001');
  });

  it('stops at the first failure: done and every wait reject with it, and no new copy starts', async () => {
    const { jobs, out } = await setup(30);
    await rm((jobs[0] as CopyJob).from);
    const q = new CopyQueue(jobs, 1);
    await assert.rejects(q.ready('v\x0020'), /ENOENT/);
    await assert.rejects(q.done, /ENOENT/);
    await assert.rejects(q.ready('v\x0025'), /ENOENT/);
    assert.equal(jobs.filter((j) => existsSync(j.to)).length, 0);
    assert.equal(existsSync(join(out, 'f29')), false);
  });

  it('refuses to copy over a file that exists', async () => {
    const { jobs } = await setup(1);
    await writeFile((jobs[0] as CopyJob).to, 'already here');
    await assert.rejects(new CopyQueue(jobs, 1).done, /EEXIST/);
  });

  it('cancel lets the copies running finish and starts no more', async () => {
    const { jobs } = await setup(30);
    const q = new CopyQueue(jobs, 2);
    q.cancel();
    await assert.rejects(q.done, /cancelled/);
    const copied = jobs.filter((j) => existsSync(j.to)).length;
    assert.ok(copied <= 2, `${copied} files copied after cancel`);
  });
});
