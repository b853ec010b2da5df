import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Namespace, NamespaceProblem } from './namespace.ts';

function tree(ns: Namespace): string[] {
  return ns.sorted().map(([path, e]) => `${path}:${e.type === 'file' ? `f${e.id}` : e.type === 'dir' ? `d${e.mode.toString(8)}` : `l${e.target}`}`);
}

describe('Namespace', () => {
  it('moves a folder with everything under it, ids following', () => {
    const ns = new Namespace();
    ns.mkdir('a', 0o755);
    ns.mkdir('a/b', 0o700);
    ns.create('a/b/f', 1, 0o644);
    ns.symlink('a/l', '/etc');
    ns.mkdir('c', 0o755);
    ns.rename('a', 'c/a2');
    assert.deepEqual(tree(ns), ['c:d755', 'c/a2:d755', 'c/a2/b:d700', 'c/a2/b/f:f1', 'c/a2/l:l/etc']);
    assert.deepEqual([...ns.file(1).paths], ['c/a2/b/f']);
    // The moved folders keep their contents' counts: a non-empty one still cannot go.
    assert.throws(() => ns.unlink('c/a2/b'), /"c\/a2\/b" is a folder that is not empty/);
    ns.unlink('c/a2/b/f');
    ns.unlink('c/a2/b');
    ns.unlink('c/a2/l');
    ns.unlink('c/a2');
    ns.unlink('c');
    assert.deepEqual(tree(ns), []);
    assert.equal(ns.files.size, 0);
  });

  it('replaces a file, a symlink or an empty folder on rename', () => {
    const ns = new Namespace();
    ns.create('a', 1, 0o644);
    ns.create('b', 2, 0o600);
    assert.deepEqual(ns.rename('a', 'b'), { type: 'file', id: 2 });
    assert.equal(ns.files.has(2), false);
    ns.mkdir('d', 0o755);
    ns.mkdir('e', 0o755);
    ns.rename('d', 'e');
    ns.symlink('s', 'x');
    ns.rename('b', 's');
    assert.deepEqual(tree(ns), ['e:d755', 's:f1']);
  });

  it('keeps hard links: a create of a live id names it twice; a rename between two names of one id leaves one', () => {
    const ns = new Namespace();
    ns.create('a', 5, 0o644);
    ns.digest(5, 3, Buffer.alloc(32, 1));
    assert.equal(ns.create('b', 5, 0o600), 'a');
    assert.equal(ns.file(5).mode, 0o600);
    assert.equal(ns.file(5).digest, undefined);
    ns.rename('a', 'b');
    assert.deepEqual(tree(ns), ['b:f5']);
    assert.deepEqual([...ns.file(5).paths], ['b']);
  });

  it('round-trips through JSON with modes and digests', () => {
    const ns = new Namespace();
    ns.mkdir('d', 0o1777);
    ns.create('d/f', 3, 0o4755);
    ns.digest(3, 10, Buffer.alloc(32, 7));
    ns.symlink('l', '../x');
    const back = Namespace.fromJSON(JSON.parse(JSON.stringify(ns.toJSON())) as ReturnType<Namespace['toJSON']>);
    assert.deepEqual(tree(back), tree(ns));
    assert.equal(back.file(3).mode, 0o4755);
    assert.deepEqual(back.file(3).digest, { size: 10, digest: Buffer.alloc(32, 7) });
    assert.throws(() => back.unlink('d'), /not empty/);
  });

  it('refuses bad paths and shapes with the path named', () => {
    const ns = new Namespace();
    ns.create('f', 1, 0o644);
    assert.throws(() => ns.mkdir('../x', 0o755), (err: unknown) => err instanceof NamespaceProblem && /path "..\/x" has a ".." segment/.test(err.message));
    assert.throws(() => ns.mkdir('/abs', 0o755), /is absolute/);
    assert.throws(() => ns.symlink('s', ''), /target is empty/);
    assert.throws(() => ns.rename('f', 'f/g'), /parent "f" of "f\/g" is a file/);
    assert.throws(() => Namespace.fromJSON({ entries: [], files: [[4, 0o644]] }), /file id 4 has no path/);
    assert.throws(() => Namespace.fromJSON({ entries: [['a', 'f', 9]], files: [] }), /id 9 is not a file/);
  });
});
