import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { choiceText, duration, elapsed, policyText, relative, table } from './format.ts';

describe('format', () => {
  it('aligns table columns and trims the line ends', () => {
    assert.equal(table(['NAME', 'PHASE', 'RPO'], [['web', 'MeetingSLA', '4s'], ['db-long', '-', '']]), [
      'NAME     PHASE       RPO',
      'web      MeetingSLA  4s',
      'db-long  -',
    ].join('\n'));
    assert.equal(table(['A', 'B'], [['x', 'y']], '  '), '  A  B\n  x  y');
  });

  it('shows durations in their two largest units', () => {
    assert.deepEqual([0, 45, 60, 192, 3600, 7500, 90_061].map(duration), ['0s', '45s', '1m', '3m12s', '1h', '2h5m', '1d1h']);
  });

  it('shows times relative to now, both ways', () => {
    const now = Date.parse('2025-03-01T10:00:00Z');
    assert.equal(relative('2025-03-01T09:57:00Z', now), '3m ago');
    assert.equal(relative('2025-03-01T10:05:00Z', now), 'in 5m');
    assert.equal(relative('garbage', now), '?');
    assert.equal(elapsed(now - 12_000, now), '[  12s]');
  });

  it('reads back what a checkpoint choice and a commit policy ask for', () => {
    assert.equal(choiceText({ type: 'LatestTagged' }), 'the latest tagged checkpoint');
    assert.equal(choiceText({ type: 'Named', name: 'cp-1' }), 'checkpoint "cp-1"');
    assert.equal(choiceText({ type: 'Time', time: '2025-03-01T10:00:00Z' }), 'the latest checkpoint at or before 2025-03-01T10:00:00Z');
    assert.equal(policyText(undefined), 'auto-commit after 10 minutes (the default)');
    assert.equal(policyText({ type: 'AutoRollback', timeoutMinutes: 5 }), 'auto-rollback after 5 minutes');
  });
});
