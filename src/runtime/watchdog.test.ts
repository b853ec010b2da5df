import { afterEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { Watchdog } from './watchdog.ts';

describe('Watchdog', () => {
  afterEach(() => mock.timers.reset());

  it('fires once after the timeout without a kick, not while kicked', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    let fired = 0;
    const w = new Watchdog(1000, () => fired++);
    w.kick();
    for (let i = 0; i < 5; i++) {
      mock.timers.tick(900);
      w.kick();
    }
    assert.equal(fired, 0);
    mock.timers.tick(1000);
    assert.equal(fired, 1);
    assert.equal(w.fired, true);
    w.kick();
    mock.timers.tick(5000);
    assert.equal(fired, 1, 'a fired watchdog stays fired');
  });

  it('never fires once stopped', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    let fired = 0;
    const w = new Watchdog(1000, () => fired++);
    w.kick();
    w.stop();
    w.kick();
    mock.timers.tick(5000);
    assert.equal(fired, 0);
    assert.equal(w.fired, false);
  });
});
