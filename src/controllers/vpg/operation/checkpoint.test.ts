import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseCheckpoint, tagsOf, type JournalCheckpoint } from './checkpoint.ts';

const cp = (seq: number, time: string, o: Partial<JournalCheckpoint> = {}): JournalCheckpoint => ({ seq, time, volumes: ['a', 'b'], ...o });
const journal = [
  cp(1, '2026-11-27T10:00:00.000Z', { volumes: ['a'] }), // before volume b joined
  cp(2, '2026-11-27T10:00:05.000Z', { tag: 'app-consistent' }),
  cp(3, '2026-11-27T10:00:10.000Z', { tags: ['before-upgrade'] }),
  cp(4, '2026-11-27T10:00:15.000Z'),
];
const pick = (choice: Parameters<typeof chooseCheckpoint>[0], listed = journal): string => {
  const r = chooseCheckpoint(choice, listed, ['a', 'b']);
  return 'checkpoint' in r ? `${r.checkpoint.id}${r.checkpoint.tag === undefined ? '' : ` ${r.checkpoint.tag}`}` : `problem: ${r.problem}`;
};

describe('chooseCheckpoint', () => {
  it('Latest is the newest checkpoint holding every volume', () => {
    assert.equal(pick({ type: 'Latest' }), '4');
    assert.equal(pick({ type: 'Latest' }, [...journal].reverse()), '4');
  });
  it('LatestTagged is the newest with a tag, its own or added later', () => {
    assert.equal(pick({ type: 'LatestTagged' }), '3 before-upgrade');
    assert.equal(pick({ type: 'LatestTagged' }, journal.slice(0, 2)), '2 app-consistent');
    assert.match(pick({ type: 'LatestTagged' }, [journal[3] as JournalCheckpoint]), /no tagged checkpoint/);
  });
  it('Named finds an id or a tag', () => {
    assert.equal(pick({ type: 'Named', name: '2' }), '2 app-consistent');
    assert.equal(pick({ type: 'Named', name: 'before-upgrade' }), '3 before-upgrade');
    assert.match(pick({ type: 'Named', name: 'gone' }), /problem: checkpoint Named "gone": no checkpoint in the journal has this id or tag/);
  });
  it('Named never gives a checkpoint that lacks a volume', () => {
    assert.match(pick({ type: 'Named', name: '1' }), /no checkpoint in the journal has this id/);
  });
  it('Time is the newest at or before the time', () => {
    assert.equal(pick({ type: 'Time', time: '2026-11-27T10:00:12Z' }), '3 before-upgrade');
    assert.equal(pick({ type: 'Time', time: '2026-11-27T11:00:12+01:00' }), '3 before-upgrade');
    assert.equal(pick({ type: 'Time', time: '2026-11-27T10:00:05Z' }), '2 app-consistent');
    assert.match(pick({ type: 'Time', time: '2026-11-27T09:00:00Z' }), /oldest checkpoint is from 2026-11-27T10:00:05.000Z, later than that/);
  });
  it('says why when nothing can be recovered yet', () => {
    assert.match(pick({ type: 'Latest' }, []), /no checkpoint yet \(the initial sync is not done\)/);
    assert.match(pick({ type: 'Latest' }, journal.slice(0, 1)), /a volume is still in its first sync/);
  });
  it('tagsOf lists the own tag first', () => {
    assert.deepEqual(tagsOf({ tag: 'x', tags: ['y'] }), ['x', 'y']);
    assert.deepEqual(tagsOf({ tag: '', tags: [] }), []);
  });
});
